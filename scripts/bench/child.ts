/**
 * Load generators, subscribers and the goodput runs live in child processes, so nothing they do runs on
 * the event loop of the process that measures, and none of it on the server's. A child gets one job as
 * an IPC message and answers with one result; `serve` is the child's side, `runChild` the parent's.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Envelope<T> {
  result?: T;
  error?: string;
  /** Progress notes the parent may act on (e.g. "connected"). */
  note?: unknown;
}

export interface ChildHandle<R> {
  readonly process: ChildProcess;
  /** The one result. */
  readonly result: Promise<R>;
  /** Send a follow-up message (for children that take several steps, like subscribers). */
  send(message: unknown): void;
  /** Notes received so far, and a way to wait for the next one. */
  nextNote(): Promise<unknown>;
}

export function runChild<R>(script: string, job: unknown): ChildHandle<R> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], { execArgv: [...(process.env.BENCH_CHILD_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_CHILD_PROF] : []), '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const notes: unknown[] = [];
  let waiting: ((note: unknown) => void) | undefined;
  const result = new Promise<R>((resolve, reject) => {
    child.on('message', (raw) => {
      const message = raw as Envelope<R>;
      if ('note' in message) {
        if (waiting) {
          const wake = waiting;
          waiting = undefined;
          wake(message.note);
        } else notes.push(message.note);
      } else if (message.error !== undefined) reject(new Error(`${script}: ${message.error}`));
      else resolve(message.result as R);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with code ${code} before answering`)));
  });
  result.catch(() => {}).finally(() => child.connected && child.disconnect());
  child.send(job as object);
  return {
    process: child,
    result,
    send: (message) => child.send(message as object),
    nextNote: () => (notes.length > 0 ? Promise.resolve(notes.shift()) : new Promise((resolve) => (waiting = resolve))),
  };
}

/** The child's side: run `handler` on the first message, answer with its result, then exit. */
export function serve<J, R>(handler: (job: J, messages: AsyncIterable<unknown>, note: (note: unknown) => void) => Promise<R>): void {
  const queue: unknown[] = [];
  let wake: (() => void) | undefined;
  let started = false;
  const messages: AsyncIterable<unknown> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift();
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
  const send = (message: object, then?: () => void) => process.send?.(message, undefined, undefined, () => then?.());
  // The parent is gone (a failed run): do not linger.
  process.once('disconnect', () => process.exit(1));
  process.on('message', (message) => {
    if (!started) {
      started = true;
      // Waiting for the parent's next message must keep this process alive even with no socket open.
      const alive = setInterval(() => {}, 60_000);
      // Exit only once the answer has left: a large one takes a while to go through the channel.
      const done = () => process.exit(0);
      handler(message as J, messages, (note) => send({ note }))
        .finally(() => clearInterval(alive))
        .then(
          (result) => send({ result }, done),
          (error: unknown) => send({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, done),
        );
      return;
    }
    queue.push(message);
    wake?.();
  });
}
