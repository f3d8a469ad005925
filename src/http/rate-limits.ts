import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { GraphQLError } from 'graphql';
import type { Rate, RateLimits } from '../config.ts';

type Rule = keyof RateLimits;

/** A refused call: the client may try again in `retryAfter` seconds (HTTP 429 where the transport allows). */
export function rateLimited(retryAfterMs: number): GraphQLError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GraphQLError(`Too many requests: try again in ${retryAfter} s`, {
    extensions: { code: 'RATE_LIMITED', retryAfter, http: { status: 429, headers: { 'Retry-After': String(retryAfter) } } },
  });
}

/**
 * The API's rate limits per identity (rate-limiter-flexible): in memory, or in Redis when REDIS_URL is set
 * so that a limit holds across every instance (with an in-memory limiter as insurance while Redis is
 * unreachable). Keys are `<REDIS_PREFIX>rl:<rule>:<who>`.
 */
export class RateLimiter {
  readonly #limiters = new Map<Rule, { limiter: RateLimiterAbstract; rate: Rate }>();
  constructor(
    limits: RateLimits,
    private readonly options: { redis?: Redis; keyPrefix: string; onRefused?: (rule: Rule) => void },
  ) {
    for (const [rule, rate] of Object.entries(limits) as [Rule, Rate | null][]) {
      if (!rate) continue;
      const common = { points: rate.points, duration: rate.seconds, keyPrefix: `${options.keyPrefix}rl:${rule}` };
      const limiter = options.redis
        ? new RateLimiterRedis({ ...common, storeClient: options.redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(common) })
        : new RateLimiterMemory(common);
      this.#limiters.set(rule, { limiter, rate });
    }
  }

  /** Count `points` calls of `rule` for `who`; throws RATE_LIMITED when that goes over the limit. */
  async consume(rule: Rule, who: string, points = 1): Promise<void> {
    const entry = this.#limiters.get(rule);
    if (!entry) return;
    try {
      await entry.limiter.consume(who, points);
    } catch (refusal) {
      throw this.#refusal(rule, refusal);
    }
  }

  /** Throws RATE_LIMITED when `who` has already used up `rule`, without counting this call. */
  async check(rule: Rule, who: string): Promise<void> {
    const entry = this.#limiters.get(rule);
    if (!entry) return;
    const state = await entry.limiter.get(who).catch(() => null);
    if (state && state.consumedPoints >= entry.rate.points) throw this.#refusal(rule, state);
  }

  /** Count a failure of `rule` for `who` (the call itself was already answered). */
  async record(rule: Rule, who: string): Promise<void> {
    await this.#limiters.get(rule)?.limiter.penalty(who, 1).catch(() => undefined);
  }

  #refusal(rule: Rule, refusal: unknown): GraphQLError {
    // rate-limiter-flexible rejects with a RateLimiterRes when over the limit, with an Error when its store
    // failed (and there is no insurance): the latter is ours, not the client's.
    if (!(refusal instanceof RateLimiterRes)) throw refusal;
    this.options.onRefused?.(rule);
    return rateLimited(refusal.msBeforeNext);
  }
}

/**
 * The Redis connection of the rate limits and the readiness probe (the pub/sub has its own two). Loaded
 * only with REDIS_URL, like the pub/sub's. Commands fail fast while Redis is away (the limits fall back to
 * memory, /ready says 503) instead of queueing.
 */
export async function openRedis(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}
