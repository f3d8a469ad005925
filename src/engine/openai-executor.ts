import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { backOff } from 'exponential-backoff';
import OpenAI from 'openai';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { AdaptiveLimiter, type LimiterState } from './adaptive-limiter.ts';
import type { ExecutionOutcome, ExecutionRequest, Executor, ExecutorHealth } from './executor.ts';
import { HealthTracker } from './executor-health.ts';
import { backoffDelayMs, CallFailure, classifyFailure, retryAfterMs, type BackoffPolicy, type Jitter } from './retry-policy.ts';
import { KeyedSemaphore, Semaphore } from './semaphore.ts';

export const defaultBaseUrl = 'https://api.openai.com/v1';

export interface OpenAiExecutorOptions {
  /**
   * Pace all calls by the provider's rate-limit signals (429s, `x-ratelimit-*`), see `adaptive-limiter.ts`.
   * Off: every task backs off on its own with the plain policy (for comparison in benchmarks). @default true
   */
  adaptive?: boolean;
  /** @default 'equal' */
  jitter?: Jitter;
  /** The longest Retry-After honoured; a longer one is cut to this. @default 60000 */
  maxRetryAfterMs?: number;
  /** Consecutive provider failures before health turns DEGRADED. @default 3 */
  degradedAfter?: number;
}

/** Per `execute` call: what the retry decision needs to know about the attempts so far. */
interface Attempts {
  count: number;
  emptyAnswers: number;
  /** The wait the last failed call asked for (Retry-After), if any. */
  retryAfterMs: number | undefined;
  /** The limiter already holds everyone back for the last 429: no wait of our own on top. */
  paced: boolean;
}

const Completion = z.object({
  choices: z.array(
    z.object({
      message: z.object({ content: z.string().nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
});

/** The answer in a 200's body, or why there is none (see `classifyFailure` for the blame). */
function answerIn(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CallFailure('malformed', 'malformed response: the body is not JSON', true, 'provider');
  }
  const parsed = Completion.safeParse(json);
  if (!parsed.success) throw new CallFailure('malformed', 'malformed response: no choices', true, 'provider');
  const choice = parsed.data.choices[0];
  const content = choice?.message?.content;
  if (!content?.trim()) {
    const reason = choice?.finish_reason ? ` (finish_reason: ${choice.finish_reason})` : '';
    throw new CallFailure('empty', `the model returned no text${reason}`, true, 'agent');
  }
  return content;
}

/** The system prompt names the agent and the task's complexity, then the operator's instructions. */
export function systemPromptFor(request: Pick<ExecutionRequest, 'agentName' | 'complexity' | 'systemPrompt'>): string {
  const parts = [
    `You are ${request.agentName}, an AI agent working on the AICP marketplace.`,
    `This task's complexity is ${request.complexity} on a scale of 1 (trivial) to 10 (very hard).`,
  ];
  const own = request.systemPrompt?.trim();
  if (own) parts.push(own);
  return parts.join('\n\n');
}

/**
 * Runs MANAGED agents through any OpenAI-compatible endpoint. One retry layer only: the client's own
 * retries are off and `exponential-backoff` drives the attempts. Calls in flight are bounded globally
 * (AI_CONCURRENCY) and per agent (its maxConcurrency); the adaptive limiter paces them by the provider's
 * rate limit. An attempt is counted (`onAttempt`) only when a call is about to go out, never for waiting.
 */
export class OpenAiExecutor implements Executor {
  private readonly client: OpenAI;
  private readonly policy: BackoffPolicy;
  private readonly maxRetryAfterMs: number;
  private readonly global: Semaphore;
  private readonly perAgent = new KeyedSemaphore();
  private readonly limiter: AdaptiveLimiter | null;
  private readonly tracker: HealthTracker;
  private readonly log: Logger;
  private running = 0;
  private closing = false;
  private idle: Promise<void> | undefined;
  private becameIdle: (() => void) | undefined;

  constructor(
    private readonly ai: Config['ai'],
    logger: Logger,
    options: OpenAiExecutorOptions = {},
  ) {
    const baseURL = ai.baseUrl ?? defaultBaseUrl;
    this.client = new OpenAI({
      // Local compatible servers ignore the key, but the client insists on one.
      apiKey: ai.apiKey ?? 'not-needed',
      baseURL,
      maxRetries: 0,
      timeout: ai.timeoutMs,
      // Set explicitly so the client does not pick these up from process.env behind config's back.
      adminAPIKey: null,
      organization: null,
      project: null,
      webhookSecret: null,
      // We log retries and failures ourselves (pino), once.
      logLevel: 'off',
    });
    this.policy = { baseMs: ai.retryBaseMs, capMs: ai.retryCapMs, jitter: options.jitter ?? 'equal' };
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.global = new Semaphore(ai.concurrency);
    this.limiter = options.adaptive === false ? null : new AdaptiveLimiter();
    this.tracker = new HealthTracker(`${ai.model} at ${baseURL}`, options.degradedAfter);
    this.log = logger.child({ component: 'openai-executor' });
  }

  health(): ExecutorHealth {
    return this.tracker.snapshot();
  }

  /** The adaptive limiter's view, for logs and benchmarks; null when adaptive pacing is off. */
  get limiterState(): LimiterState | null {
    return this.limiter?.state ?? null;
  }

  async execute(request: ExecutionRequest): Promise<ExecutionOutcome> {
    if (this.closing) return { ok: false, error: 'the executor is closing', blame: 'aborted' };
    if (request.signal.aborted) return { ok: false, error: 'aborted before the first attempt', blame: 'aborted' };
    this.running += 1;
    const attempts: Attempts = { count: 0, emptyAnswers: 0, retryAfterMs: undefined, paced: false };
    try {
      const result = await backOff(() => this.attempt(request, attempts), {
        numOfAttempts: 1 + this.ai.maxRetries,
        // backOff counts attempts and asks `retry` before each new one; the wait itself is ours, inside
        // `retry`, because it must honour Retry-After and end the moment the signal aborts.
        startingDelay: 0,
        jitter: 'none',
        retry: (error: unknown, retry: number) => this.beforeRetry(error, retry, request, attempts),
      });
      return { ok: true, result };
    } catch (error) {
      return this.outcomeOf(error, request, attempts);
    } finally {
      this.running -= 1;
      if (this.running === 0) this.becameIdle?.();
    }
  }

  /** Refuses new work (outcome `aborted`) and waits for the calls under way; abort their signals to hurry them. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.running === 0) return;
    this.idle ??= new Promise<void>((resolve) => (this.becameIdle = resolve));
    await this.idle;
  }

  private async attempt(request: ExecutionRequest, attempts: Attempts): Promise<string> {
    const { signal } = request;
    const releaseAgent = await this.perAgent.acquire(request.agentId, request.agentConcurrency, signal);
    try {
      const releaseGlobal = await this.global.acquire(signal);
      try {
        // Pacing comes last, right before the call, so a permit is never spent waiting for a slot.
        const permit = this.limiter ? await this.limiter.acquire(signal) : 0;
        attempts.count += 1;
        await request.onAttempt();
        return await this.call(request, permit, attempts);
      } finally {
        releaseGlobal();
      }
    } finally {
      releaseAgent();
    }
  }

  private async call(request: ExecutionRequest, permit: number, attempts: Attempts): Promise<string> {
    const started = performance.now();
    attempts.retryAfterMs = undefined;
    attempts.paced = false;
    let text: string;
    try {
      const response = await this.client.chat.completions
        .create(
          {
            model: request.model,
            messages: [
              { role: 'system', content: systemPromptFor(request) },
              { role: 'user', content: request.prompt },
              ...(request.rework
                ? [
                    { role: 'assistant' as const, content: request.rework.earlierAnswer },
                    { role: 'user' as const, content: request.rework.feedback },
                  ]
                : []),
            ],
          },
          // A signal per call: the client adds an abort listener to the signal it is given and never removes it,
          // so a task's own signal would collect one per retry (Node warns past ten).
          { signal: AbortSignal.any([request.signal]) },
        )
        .asResponse();
      this.limiter?.observe({ permit, status: response.status, headers: response.headers, retryAfterMs: undefined });
      try {
        text = await response.text();
      } catch (error) {
        if (request.signal.aborted) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new CallFailure('connection', `connection lost while reading the answer: ${reason}`, true, 'provider');
      }
    } catch (error) {
      if (request.signal.aborted) throw error;
      throw this.failed(classifyFailure(error, request.model), permit, attempts);
    }
    let answer: string;
    try {
      answer = answerIn(text);
    } catch (error) {
      throw this.failed(classifyFailure(error, request.model), permit, attempts);
    }
    const latencyMs = Math.round(performance.now() - started);
    if (this.tracker.success(latencyMs)) this.log.info({ latencyMs }, 'provider answering again: health OK');
    return answer;
  }

  /** Book a failed call (limiter, health) and remember what the retry decision needs. */
  private failed(failure: CallFailure, permit: number, attempts: Attempts): CallFailure {
    if (failure.kind === 'empty') attempts.emptyAnswers += 1;
    attempts.retryAfterMs = retryAfterMs(failure.headers);
    if (this.limiter && failure.status !== undefined) {
      attempts.paced = this.limiter.observe({
        permit,
        status: failure.status,
        headers: failure.headers,
        retryAfterMs: attempts.retryAfterMs === undefined ? undefined : Math.min(attempts.retryAfterMs, this.maxRetryAfterMs),
      });
    }
    if (this.tracker.failure(failure)) this.log.warn({ health: this.tracker.snapshot().detail }, 'provider failing: health DEGRADED');
    return failure;
  }

  private async beforeRetry(error: unknown, retry: number, request: ExecutionRequest, attempts: Attempts): Promise<boolean> {
    if (request.signal.aborted || !(error instanceof CallFailure) || !error.retryable) return false;
    // backOff asks even after the last attempt; answer before sleeping for nothing.
    if (retry >= 1 + this.ai.maxRetries) return false;
    // A model that answered nothing twice will most likely keep doing so.
    if (error.kind === 'empty' && attempts.emptyAnswers >= 2) return false;
    const waitMs = attempts.paced ? 0 : this.waitBefore(retry, attempts.retryAfterMs);
    this.log.debug({ taskId: request.taskId, retry, waitMs, paced: attempts.paced, error: error.message }, 'retrying provider call');
    request.onRetry?.(error.message, Math.ceil(waitMs));
    try {
      if (waitMs > 0) await sleep(Math.ceil(waitMs), undefined, { signal: request.signal });
    } catch {
      return false;
    }
    return true;
  }

  /**
   * The provider's Retry-After replaces the computed wait. Tasks told the same Retry-After would come back
   * in lockstep, so unless jitter is off they wait up to 10 % longer than asked (never shorter).
   */
  private waitBefore(retry: number, askedMs: number | undefined): number {
    if (askedMs === undefined) return backoffDelayMs(retry, this.policy);
    const wait = Math.min(askedMs, this.maxRetryAfterMs);
    return this.policy.jitter === 'none' ? wait : wait + Math.random() * wait * 0.1;
  }

  private outcomeOf(error: unknown, request: ExecutionRequest, attempts: Attempts): ExecutionOutcome {
    const tried = `${attempts.count} attempt${attempts.count === 1 ? '' : 's'}`;
    if (request.signal.aborted) return { ok: false, error: `aborted after ${tried}`, blame: 'aborted' };
    const failure = classifyFailure(error, request.model);
    const message = `${failure.message} (after ${tried})`;
    this.log.warn({ taskId: request.taskId, agentId: request.agentId, blame: failure.blame, kind: failure.kind }, message);
    return { ok: false, error: message, blame: failure.blame };
  }
}
