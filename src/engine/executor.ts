/**
 * The seam between the coordinator (which owns task state, leases and money) and whatever produces an
 * answer for a MANAGED agent. An executor never touches the database: it gets everything it needs in the
 * request and reports one outcome, so the coordinator alone decides what the outcome does to the task.
 */

export interface ExecutionRequest {
  taskId: string;
  agentId: string;
  agentName: string;
  /** The model the agent runs on. */
  model: string;
  /** The operator's instructions; the executor adds the agent's name and the task's complexity. */
  systemPrompt: string | null;
  prompt: string;
  /**
   * A rework the buyer asked for: the earlier answer and the buyer's feedback, sent after the prompt as the
   * conversation so far (assistant, then user).
   */
  rework?: { earlierAnswer: string; feedback: string };
  complexity: number;
  /** Max concurrent calls for this agent (its maxConcurrency). */
  agentConcurrency: number;
  /** Aborted when the task's lease is lost or the engine stops: give up quietly. */
  signal: AbortSignal;
  /**
   * Called right before each call to the provider, retries included (counted in `Task.attempts`), and
   * awaited: the attempt is on record before the call goes out, so a process killed mid-call has counted it.
   */
  onAttempt: () => Promise<void> | void;
  /** Called when a failed call will be retried: why, and how long the executor waits first. */
  onRetry?: (reason: string, waitMs: number) => void;
}

export type ExecutionOutcome =
  | { ok: true; result: string }
  | {
      ok: false;
      error: string;
      /**
       * Whose fault the failure is. `agent`: counts against the agent's reputation (a refused or malformed
       * request, the agent's own bad answer). `provider`: an upstream outage or rate limit, not the agent's
       * doing. `aborted`: the call was abandoned (lease lost, shutdown) and the task must not change.
       */
      blame: 'agent' | 'provider' | 'aborted';
    };

export type ExecutorHealthStatus = 'OK' | 'DEGRADED' | 'DOWN';

export interface ExecutorHealth {
  status: ExecutorHealthStatus;
  /** e.g. "gpt-4o-mini at https://api.openai.com/v1", or why it is degraded. */
  detail: string;
  /** Latency of the last successful call, when there was one. */
  latencyMs: number | null;
}

export interface Executor {
  execute(request: ExecutionRequest): Promise<ExecutionOutcome>;
  health(): ExecutorHealth;
  /** Wait for in-flight calls (bounded by the caller) and release resources. */
  close(): Promise<void>;
}
