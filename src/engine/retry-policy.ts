import { STATUS_CODES } from 'node:http';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';

/**
 * What a failed call to the provider means: whether another attempt can help, whose fault it is, and how
 * long the provider asked us to wait. Pure functions, so the whole policy is testable without a network.
 */

export type Jitter = 'none' | 'full' | 'equal';

export interface BackoffPolicy {
  /** The first wait; each retry doubles it. */
  baseMs: number;
  /** The longest computed wait (a server's Retry-After may ask for more, up to `maxRetryAfterMs`). */
  capMs: number;
  /**
   * `equal`: half the computed wait plus a random half, so a burst of failures does not retry in lockstep
   * yet never retries sooner than half the original policy. `full`: anywhere in 0..wait. `none`: exact.
   */
  jitter: Jitter;
}

/** The wait before retry number `retry` (1 for the first retry): base x 2^(retry-1), capped, jittered. */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const wait = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  switch (policy.jitter) {
    case 'none':
      return wait;
    case 'full':
      return Math.round(random() * wait);
    case 'equal':
      return Math.round(wait / 2 + (random() * wait) / 2);
  }
}

/**
 * The wait a response asks for: `retry-after-ms` (OpenAI's, in milliseconds) first, then `Retry-After`
 * in seconds or as an HTTP date. Undefined when absent or unreadable; never negative.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get('retry-after')?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export type FailureKind =
  | 'rate-limited'
  | 'quota'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'auth'
  | 'model-not-found'
  | 'rejected'
  | 'malformed'
  | 'empty'
  | 'unknown';

/** A failed call, as the retry loop and the outcome see it. Thrown out of an attempt. */
export class CallFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly retryable: boolean,
    /** Whose fault it is if this is the last word (see `classifyFailure`). */
    readonly blame: 'agent' | 'provider',
    readonly status: number | undefined = undefined,
    readonly headers: Headers | undefined = undefined,
  ) {
    super(message);
    this.name = 'CallFailure';
  }
}

function providerMessage(error: APIError): string | undefined {
  const body = error.error;
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  return undefined;
}

function describe(status: number, error: APIError): string {
  const detail = providerMessage(error);
  const line = `${status} ${STATUS_CODES[status] ?? 'Error'}${detail ? `: ${detail}` : ''}`;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * Blame, and why:
 * - 429, 408, 409, 5xx, timeouts, connection errors, a malformed 200: the provider is down, slow or
 *   rate-limiting. Retried; never the agent's fault (DESIGN: an upstream outage is not the agent's doing).
 * - 429 `insufficient_quota`: our account is out of credit. Waiting will not help, so not retried; provider.
 * - 401, 403: the platform's key or account is wrong. Not retried (it would fail the same way), and not
 *   the agent's fault either: provider.
 * - 404 naming the model (`model_not_found`, or a message that names the model): the agent is configured
 *   with a model the endpoint does not serve, which is the agent's configuration: agent. Any other 404
 *   means our base URL is wrong: provider.
 * - 400, 422 and other 4xx: the provider refused this request (context too long for the agent's model,
 *   content policy, an unsupported parameter for that model): a refused request counts against the agent.
 * - 200 with no text: the agent's model produced no answer, which is the agent's bad answer. Retried once
 *   (`empty` is special-cased by the executor), since models are not deterministic.
 * - Anything else (a bug of ours, most likely): not retried, and not the agent's fault: provider.
 */
export function classifyFailure(error: unknown, model: string): CallFailure {
  if (error instanceof CallFailure) return error;
  if (error instanceof APIConnectionTimeoutError) {
    return new CallFailure('timeout', 'request timed out', true, 'provider');
  }
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new CallFailure('connection', `connection error${cause}`, true, 'provider');
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const { status, headers } = error;
    const message = describe(status, error);
    if (status === 429 && error.code === 'insufficient_quota') {
      return new CallFailure('quota', message, false, 'provider', status, headers);
    }
    if (status === 429) return new CallFailure('rate-limited', message, true, 'provider', status, headers);
    if (status === 408 || status === 409 || status >= 500) {
      return new CallFailure('server', message, true, 'provider', status, headers);
    }
    if (status === 401 || status === 403) return new CallFailure('auth', message, false, 'provider', status, headers);
    if (status === 404) {
      const namesModel = error.code === 'model_not_found' || (providerMessage(error) ?? '').includes(model);
      return namesModel
        ? new CallFailure('model-not-found', message, false, 'agent', status, headers)
        : new CallFailure('rejected', message, false, 'provider', status, headers);
    }
    return new CallFailure('rejected', message, false, 'agent', status, headers);
  }
  // The client parses a 200's body as JSON; a body that is not JSON is a broken provider.
  if (error instanceof SyntaxError) {
    return new CallFailure('malformed', `malformed response: ${error.message}`, true, 'provider');
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CallFailure('unknown', `unexpected error: ${message}`, false, 'provider');
}
