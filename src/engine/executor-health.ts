import type { ExecutorHealth } from './executor.ts';
import type { CallFailure } from './retry-policy.ts';

/**
 * The executor's health as `health.ai` shows it, from the calls themselves (no probing traffic):
 * DEGRADED once `threshold` calls in a row failed on the provider's side, or at once when the provider
 * refuses our key or quota (no retry fixes those); OK again after the next success. Failures that are an
 * agent's doing (a 400, an unknown model) say nothing about the provider and change nothing here.
 */
export class HealthTracker {
  private consecutiveFailures = 0;
  private lastFailure: CallFailure | null = null;
  private lastLatencyMs: number | null = null;

  /**
   * @param okDetail e.g. "gpt-4o-mini at https://api.openai.com/v1"
   * @param threshold consecutive provider failures before DEGRADED. @default 3
   */
  constructor(
    private readonly okDetail: string,
    private readonly threshold = 3,
  ) {}

  /** @returns true when this success ended a degraded spell. */
  success(latencyMs: number): boolean {
    const wasDegraded = this.degraded;
    this.consecutiveFailures = 0;
    this.lastFailure = null;
    this.lastLatencyMs = latencyMs;
    return wasDegraded;
  }

  /** @returns true when this failure started a degraded spell. */
  failure(failure: CallFailure): boolean {
    if (failure.blame !== 'provider') return false;
    const wasDegraded = this.degraded;
    this.consecutiveFailures += 1;
    this.lastFailure = failure;
    return !wasDegraded && this.degraded;
  }

  private get degraded(): boolean {
    if (!this.lastFailure) return false;
    return (
      this.consecutiveFailures >= this.threshold || this.lastFailure.kind === 'auth' || this.lastFailure.kind === 'quota'
    );
  }

  snapshot(): ExecutorHealth {
    if (!this.degraded || !this.lastFailure) {
      return { status: 'OK', detail: this.okDetail, latencyMs: this.lastLatencyMs };
    }
    const calls = this.consecutiveFailures === 1 ? 'last call' : `last ${this.consecutiveFailures} calls`;
    return {
      status: 'DEGRADED',
      detail: `${calls} failed: ${this.lastFailure.message} (${this.okDetail})`,
      latencyMs: this.lastLatencyMs,
    };
  }
}
