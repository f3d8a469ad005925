import type { Logger } from 'pino';
import type { AppPubSub } from '../pubsub.ts';
import { AsyncQueue } from './async-queue.ts';

/**
 * News that money moved, by the user it concerns: drives `accountUpdated`.
 *
 * Each commit names the ledger accounts it moved (`Committed.accounts`). Here they become the users who
 * see them: a wallet `user:<id>` its user; an agent's wallet its operator (their dashboard shows their
 * agents' balances); a task's escrow its buyer (their `escrowed`). Owners are looked up once per batch of
 * commits, on the instance that committed, and published on the `account:changed` topic (through Redis
 * with REDIS_URL), so every instance hears of every change. Listeners are kept per user: a message costs
 * a map lookup per user it names, not a call per subscriber.
 */
export class AccountNews {
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #pending = new Set<string>();
  #flushing = false;
  #stopped = false;
  #stop: (() => void) | undefined;

  /** @param ownersOf  the users who see these accounts (`accountOwners` on the database). */
  constructor(
    private readonly pubsub: AppPubSub,
    private readonly logger: Logger,
    private readonly ownersOf: (accounts: readonly string[]) => Promise<string[]>,
  ) {}

  start(): void {
    const messages = this.pubsub.subscribe('account:changed');
    this.#stop = () => void messages.return?.();
    void (async () => {
      for await (const { userIds } of messages) {
        for (const userId of userIds) for (const listener of this.#listeners.get(userId) ?? []) listener();
      }
    })();
  }

  stop(): void {
    this.#stopped = true;
    this.#stop?.();
    this.#listeners.clear();
  }

  /** After a commit: these accounts moved. Commits in the same turn of the event loop share one lookup. */
  moved(accounts: readonly string[]): void {
    if (this.#stopped) return;
    for (const account of accounts) this.#pending.add(account);
    if (this.#flushing || this.#pending.size === 0) return;
    this.#flushing = true;
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    const accounts = [...this.#pending];
    this.#pending.clear();
    try {
      const userIds = await this.ownersOf(accounts);
      if (userIds.length > 0) this.pubsub.publish('account:changed', { userIds });
    } catch (error) {
      this.logger.error({ err: error, accounts }, 'could not announce account changes');
    } finally {
      this.#flushing = false;
      if (this.#pending.size > 0) this.moved([]);
    }
  }

  /** A signal each time `userId`'s money moves, from now on; closing it unsubscribes. */
  listen(userId: string): AsyncQueue<void> {
    const listener = () => queue.push();
    const queue = new AsyncQueue<void>(() => {
      const set = this.#listeners.get(userId);
      set?.delete(listener);
      if (set?.size === 0) this.#listeners.delete(userId);
    });
    let set = this.#listeners.get(userId);
    if (!set) this.#listeners.set(userId, (set = new Set()));
    set.add(listener);
    return queue;
  }
}
