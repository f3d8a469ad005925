/**
 * What the fake provider does with a request, kept apart from the HTTP plumbing in `server.ts`: the
 * options, the one-shot scripts tests enqueue, the token bucket behind `requestsPerSecond`, and the bodies
 * it answers with (the shapes OpenAI's API uses).
 */

export type Latency = number | { min: number; max: number };

export interface FakeLlmBehaviour {
  /** Delay before a successful (or random 500) answer: fixed, or uniform in min..max. @default 0 */
  latencyMs: Latency;
  /** Share of requests answered 500. @default 0 */
  errorRate: number;
  /** Share of requests answered 429 whatever the rate limit says (load shedding). @default 0 */
  rateLimit429Rate: number;
  /** The wait those random 429s ask for (`retry-after-ms`, and `Retry-After` in whole seconds). @default 1000 */
  retryAfterMs: number;
  /**
   * A token bucket: beyond it, 429 with the wait until the next token. Every response then carries
   * `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`, `x-ratelimit-reset-requests`.
   * null: unlimited. @default null
   */
  requestsPerSecond: number | null;
  /** The bucket's capacity. null: one second's worth of `requestsPerSecond`. @default null */
  burst: number | null;
  /** When set, any other Bearer key gets 401 with OpenAI's error body. @default null */
  requiredApiKey: string | null;
  /** How many recent chat requests to keep for assertions. @default 100 */
  recordLimit: number;
}

export const defaultBehaviour: FakeLlmBehaviour = {
  latencyMs: 0,
  errorRate: 0,
  rateLimit429Rate: 0,
  retryAfterMs: 1000,
  requestsPerSecond: null,
  burst: null,
  requiredApiKey: null,
  recordLimit: 100,
};

/** A one-shot answer for the next chat request, ahead of every default behaviour (auth included). */
export type ScriptedResponse =
  | {
      kind?: 'response';
      status: number;
      headers?: Record<string, string>;
      /** An object is sent as JSON, a string as is; omitted: a completion (2xx) or an error body. */
      body?: unknown;
      delayMs?: number;
    }
  /** Destroy the socket without answering (the client sees a connection reset). */
  | { kind: 'reset'; delayMs?: number }
  /** Never answer; the request stays in flight until the client gives up or the fake closes. */
  | { kind: 'hang' }
  /** 200 whose body is not JSON (`invalid-json`) or is JSON without `choices` (`wrong-shape`). */
  | { kind: 'garbage'; shape?: 'invalid-json' | 'wrong-shape'; delayMs?: number };

export interface ChatMessage {
  role: string;
  content: string;
}

export function pickLatency(latency: Latency): number {
  if (typeof latency === 'number') return latency;
  return latency.min + Math.random() * (latency.max - latency.min);
}

/** Parses "200" or "100..500" (also "100-500"), as the CLI takes it. */
export function parseLatency(text: string): Latency {
  const range = /^(\d+(?:\.\d+)?)\s*(?:\.\.|-)\s*(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  const fixed = Number(text);
  if (!Number.isFinite(fixed) || fixed < 0) throw new Error(`invalid latency "${text}": use 200 or 100..500`);
  return fixed;
}

export interface BucketVerdict {
  ok: boolean;
  limit: number;
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
  /** Until the next whole token (0 when `ok`). */
  retryAfterMs: number;
}

/** Refills continuously at `perSecond` up to `capacity`; a request takes one whole token. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  take(now: number): BucketVerdict {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    const ok = this.tokens >= 1;
    if (ok) this.tokens -= 1;
    return {
      ok,
      limit: this.capacity,
      remaining: Math.floor(this.tokens),
      resetMs: ((this.capacity - this.tokens) * 1000) / this.perSecond,
      retryAfterMs: ok ? 0 : ((1 - this.tokens) * 1000) / this.perSecond,
    };
  }
}

/** OpenAI's duration format for `x-ratelimit-reset-*`: "20ms", "1.5s", "6m0s". */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`;
  return `${Math.floor(seconds / 60)}m${Number((seconds % 60).toFixed(3))}s`;
}

export function rateLimitHeaders(verdict: BucketVerdict): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(verdict.limit),
    'x-ratelimit-remaining-requests': String(verdict.remaining),
    'x-ratelimit-reset-requests': formatResetDuration(verdict.resetMs),
  };
}

export function retryAfterHeaders(waitMs: number): Record<string, string> {
  return { 'retry-after-ms': String(Math.ceil(waitMs)), 'retry-after': String(Math.ceil(waitMs / 1000)) };
}

let completionSeq = 0;

/** The `chat.completion` object, for the fake and for tests scripting an unusual answer. */
export function completionBody(content: string | null, model: string) {
  completionSeq += 1;
  return {
    id: `chatcmpl-fake-${completionSeq}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: 0,
      completion_tokens: content === null ? 0 : Math.ceil(content.length / 4),
      total_tokens: content === null ? 0 : Math.ceil(content.length / 4),
    },
  };
}

/** Deterministic in the last user message, so tests can predict the answer. */
export function answerFor(messages: ChatMessage[]): string {
  const lastUser = messages.findLast((m) => m.role === 'user');
  return `Answer to: ${(lastUser?.content ?? '').slice(0, 200)}`;
}

const errorTypes: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Bad request.' },
  401: {
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
  },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests. Please try again later.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
};

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function errorBody(status: number, message?: string, code?: string | null) {
  const known = errorTypes[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null, message: `HTTP ${status}` };
  return { error: { message: message ?? known.message, type: known.type, param: null, code: code === undefined ? known.code : code } };
}
