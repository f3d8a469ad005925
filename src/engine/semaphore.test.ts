import { describe, expect, it } from 'vitest';
import { KeyedSemaphore, Semaphore } from './semaphore.ts';

describe('Semaphore', () => {
  it('lets `limit` holders in and serves the rest in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    const first = await semaphore.acquire();
    const second = await semaphore.acquire();
    const waiting = [3, 4, 5].map((n) => semaphore.acquire().then((release) => (order.push(n), release)));
    expect(semaphore.inUse).toBe(2);

    first();
    second();
    const [r3, r4] = await Promise.all(waiting.slice(0, 2));
    expect(order).toEqual([3, 4]);
    r3!();
    (await waiting[2]!)();
    r4!();
    expect(order).toEqual([3, 4, 5]);
    expect(semaphore.idle).toBe(true);
  });

  it('a release is idempotent', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    release();
    release();
    expect(semaphore.inUse).toBe(0);
  });

  it('an aborted waiter leaves the queue and the next one gets its turn', async () => {
    const semaphore = new Semaphore(1);
    const held = await semaphore.acquire();
    const controller = new AbortController();
    const abandoned = semaphore.acquire(controller.signal);
    const next = semaphore.acquire();

    controller.abort();
    await expect(abandoned).rejects.toThrow();
    held();
    (await next)();
    expect(semaphore.idle).toBe(true);
  });

  it('raising the limit admits waiters at once', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const waiter = semaphore.acquire();
    semaphore.setLimit(2);
    await expect(waiter).resolves.toBeTypeOf('function');
  });
});

describe('KeyedSemaphore', () => {
  it('bounds each key on its own and forgets idle keys', async () => {
    const keyed = new KeyedSemaphore();
    const a = await keyed.acquire('a', 1);
    const b = await keyed.acquire('b', 1);
    let secondA = false;
    const pending = keyed.acquire('a', 1).then((release) => ((secondA = true), release));
    await Promise.resolve();
    expect(secondA).toBe(false);

    a();
    (await pending)();
    b();
    expect(keyed.size).toBe(0);
  });
});
