import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { InvalidStateError } from '../market/errors.ts';
import { type Agent, type Task, toAgent, toTask } from '../market/model.ts';
import type { Store } from '../market/store.ts';
import { finishAttempt, recordAttempt, recordRetry, releaseLease, renewLease, requeueExpired } from '../market/task/attempts.ts';
import { assignPending } from '../market/task/claims.ts';
import { releaseDue } from '../market/task/review.ts';
import type { Executor } from './executor.ts';

export interface CoordinatorOptions {
  store: Store;
  executor: Executor;
  config: Pick<Config, 'taskLeaseSeconds'>;
  logger: Logger;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Makes tasks happen. It assigns PENDING tasks as soon as something changes (a task posted, an agent
 * freed or registered), runs MANAGED agents' tasks through the executor under a renewed lease, and
 * sweeps for expired leases and passed review deadlines on start and periodically, so that after a crash
 * no task stays stuck (whichever instance is up does it).
 * EXTERNAL agents' tasks are only assigned here; their operators answer through the API.
 */
export class Coordinator {
  /**
   * Runs in this process. Not keyed by task: a task whose lease ran out can be requeued and started
   * again here while its first run is still winding down, and stop() must abort both.
   */
  readonly #running = new Set<Running>();
  #pass: Promise<void> | undefined;
  #again = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(private readonly options: CoordinatorOptions) {}

  get leaseMs(): number {
    return this.options.config.taskLeaseSeconds * 1000;
  }

  /** Tasks being executed by this process right now. */
  get inFlight(): number {
    return this.#running.size;
  }

  async start(): Promise<void> {
    await this.#sweep();
    // Sweep often enough that an expired lease is noticed within a quarter of its length (at most 5 s).
    const every = Math.min(5000, Math.max(100, this.leaseMs / 4));
    this.#sweepTimer = setInterval(() => void this.#sweep(), every);
    this.#sweepTimer.unref();
    this.kick();
  }

  /** Something changed that may let a task be assigned: run an assignment pass soon (coalesced). */
  kick(): void {
    if (this.#stopping) return;
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#pass = (async () => {
      do {
        this.#again = false;
        await this.#assignAll();
      } while (this.#again && !this.#stopping);
    })()
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'assignment pass failed'))
      .finally(() => {
        this.#pass = undefined;
      });
  }

  /**
   * Stop taking work, give in-flight calls up to `graceMs` to finish, then abort the rest and release
   * their leases so another start (or instance) picks them up at once.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#sweepTimer);
    await this.#pass;
    const all = () => Promise.all([...this.#running].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([all().then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const running of this.#running) running.controller.abort(new Error('shutting down'));
      await all();
    }
  }

  async #assignAll(): Promise<void> {
    for (;;) {
      const assignments = await assignPending(this.options.store, this.leaseMs);
      for (const { task, agent } of assignments) {
        if (agent.mode === 'MANAGED') this.#run(task, agent);
      }
      if (assignments.length === 0 || this.#stopping) return;
    }
  }

  async #sweep(): Promise<void> {
    try {
      const requeued = await requeueExpired(this.options.store);
      if (requeued.length > 0) {
        this.options.logger.warn({ tasks: requeued.map((t) => t.id) }, 'leases expired: tasks back in the queue');
        this.kick();
      }
      const released = await releaseDue(this.options.store);
      if (released.length > 0) this.options.logger.info({ tasks: released.map((t) => t.id) }, 'review windows ended: agents paid');
    } catch (error) {
      this.options.logger.error({ err: error }, 'sweep failed');
    }
  }

  /**
   * Run a rework this instance claimed (requestChanges) if its agent is MANAGED. Should this instance stop
   * first, the lease runs out and the rework is claimed again, by any instance, for the same agent.
   */
  async resume(taskId: string): Promise<void> {
    if (this.#stopping) return;
    const { store } = this.options;
    const row = await store.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
    if (!row || row.status !== 'PROCESSING' || !row.agent_id || row.claimed_by !== (store.instanceId ?? 'local')) return;
    const agent = await store.db.selectFrom('agents').selectAll().where('id', '=', row.agent_id).executeTakeFirst();
    if (agent?.mode === 'MANAGED') this.#run(toTask(row), toAgent(agent));
  }

  #run(task: Task, agent: Agent): void {
    const controller = new AbortController();
    const running: Running = {
      controller,
      done: this.#execute(task, agent, controller.signal)
        .catch((error: unknown) => this.options.logger.error({ err: error, task: task.id }, 'running a task failed'))
        .finally(() => this.#running.delete(running)),
    };
    this.#running.add(running);
  }

  /** Run a task the assignment already started (PROCESSING under its lease) and finish it. */
  async #execute(task: Task, agent: Agent, signal: AbortSignal): Promise<void> {
    const { store, executor, logger } = this.options;
    const leaseToken = task.leaseToken;
    if (!leaseToken) throw new Error(`task ${task.id} was handed to the engine without a lease`);
    const retries: Promise<void>[] = [];
    const lost = new AbortController();
    const renew = setInterval(() => {
      renewLease(store, task.id, leaseToken, this.leaseMs).then(
        (held) => held || lost.abort(new Error('lease lost')),
        (error: unknown) => logger.error({ err: error, task: task.id }, 'renewing a lease failed'),
      );
    }, this.leaseMs / 3);
    try {
      const outcome = await executor.execute({
        taskId: task.id,
        agentId: agent.id,
        agentName: agent.name,
        model: agent.model,
        systemPrompt: agent.systemPrompt,
        prompt: task.prompt,
        ...(task.result && task.changeRequests.length > 0 && { rework: { earlierAnswer: task.result, feedback: task.changeRequests.at(-1)?.feedback ?? '' } }),
        complexity: task.complexity,
        agentConcurrency: agent.maxConcurrency,
        signal: AbortSignal.any([signal, lost.signal]),
        // The count is the task's record, not the work: a write that fails is logged, and the call goes out.
        onAttempt: () =>
          recordAttempt(store, task.id, leaseToken).catch((error: unknown) => logger.error({ err: error, task: task.id }, 'recording an attempt failed')),
        onRetry: (reason, waitMs) => void retries.push(recordRetry(store, task.id, leaseToken, reason, waitMs)),
      });
      await Promise.all(retries);
      if (!outcome.ok && outcome.blame === 'aborted') {
        // Shutting down: hand the task back now. Lease lost: whoever requeued it owns it; do nothing.
        if (signal.aborted) await releaseLease(store, task.id, leaseToken);
        return;
      }
      await finishAttempt(
        store,
        task.id,
        leaseToken,
        outcome.ok ? { ok: true, result: outcome.result } : { ok: false, error: outcome.error, agentAtFault: outcome.blame === 'agent' },
      );
    } catch (error) {
      if (error instanceof InvalidStateError) {
        logger.warn({ task: task.id, reason: error.message }, 'result discarded: the lease was no longer held');
        return;
      }
      throw error;
    } finally {
      clearInterval(renew);
    }
  }
}
