import type { ExecutionOutcome, ExecutionRequest, Executor, ExecutorHealth } from './executor.ts';

export const offlineNotice = '[offline executor: no OPENAI_API_KEY/OPENAI_BASE_URL configured]';

/**
 * Answers without any network when no provider is configured, so the whole marketplace can be tried
 * without a key. Every result starts with `offlineNotice`, so nobody mistakes it for a model's work, and
 * health stays DEGRADED with the reason.
 */
export class OfflineExecutor implements Executor {
  async execute(request: ExecutionRequest): Promise<ExecutionOutcome> {
    if (request.signal.aborted) return { ok: false, error: 'aborted before the first attempt', blame: 'aborted' };
    await request.onAttempt();
    const prompt = request.prompt.length > 200 ? `${request.prompt.slice(0, 200)}...` : request.prompt;
    return {
      ok: true,
      result:
        `${offlineNotice} ${request.agentName} (model ${request.model}, complexity ${request.complexity}) ` +
        `received: "${prompt}".${request.rework ? ` Reworked after the buyer's feedback: "${request.rework.feedback}".` : ''} ` +
        'Set OPENAI_API_KEY or OPENAI_BASE_URL for a real answer.',
    };
  }

  health(): ExecutorHealth {
    return {
      status: 'DEGRADED',
      detail: 'offline executor: neither OPENAI_API_KEY nor OPENAI_BASE_URL is set, results are placeholders',
      latencyMs: null,
    };
  }

  async close(): Promise<void> {}
}
