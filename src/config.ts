import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { projectRoot } from './paths.ts';

/**
 * The only reader of `process.env`. Everything else receives a `Config` (tests build their own with
 * `loadConfig({ ...overrides })`), so no module reaches for the environment behind a caller's back.
 */

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;
/** A rate as "points/window", e.g. "10/15m": at most 10 in any 15-minute window; "off" disables it. */
const rate = z
  .string()
  .regex(/^(off|\d{1,9}\/\d{1,5}[smh])$/, 'must be "<count>/<window>" such as 10/15m (s, m or h), or off')
  .transform((v): Rate | null => {
    if (v === 'off') return null;
    const [points, window] = v.split('/') as [string, string];
    return { points: Number(points), seconds: Number(window.slice(0, -1)) * UNIT_SECONDS[window.slice(-1) as keyof typeof UNIT_SECONDS] };
  });

/** At most `points` in any window of `seconds`. */
export interface Rate {
  points: number;
  seconds: number;
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.string().min(1).default('./data/aicp.sqlite'),
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'letters, digits and : . _ - only, at most 64')
    .default('aicp:'),
  INSTANCE_ID: z.preprocess(emptyAsUndefined, z.string().regex(/^[A-Za-z0-9:._-]{1,100}$/, 'letters, digits and : . _ - only, at most 100').optional()),
  JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_TTL_SECONDS: int(60, 30 * 24 * 3600).default(3600),
  OPENAI_API_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  OPENAI_BASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  AI_MODEL: z.string().min(1).default('gpt-3.5-turbo'),
  AI_MAX_RETRIES: int(0, 20).default(5),
  AI_RETRY_BASE_MS: int(1, 600_000).default(2000),
  AI_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  AI_CONCURRENCY: int(1, 10_000).default(16),
  TASK_LEASE_SECONDS: z.coerce.number().positive().max(86_400).default(300),
  EXTERNAL_GRACE_SECONDS: z.coerce.number().positive().max(86_400).default(30),
  ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email().optional()),
  ADMIN_PASSWORD: z.preprocess(emptyAsUndefined, z.string().min(8, 'must be at least 8 characters').optional()),
  SEED_AGENTS: boolish.default(true),
  REVIEW_WINDOW_SECONDS: int(0, 90 * 24 * 3600).default(0),
  MAX_CHANGE_REQUESTS: int(0, 100).default(2),
  PLATFORM_FEE_BPS: int(0, 10_000).default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ALLOW_INTROSPECTION: boolish.optional(),
  CORS_ORIGINS: z.preprocess(emptyAsUndefined, z.string().optional()),
  TRUST_PROXY: boolish.default(false),
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  MAX_BODY_BYTES: int(1024, 100_000_000).default(1_000_000),
  LIMIT_DEPTH: int(2, 100).default(8),
  LIMIT_ALIASES: int(0, 1000).default(15),
  LIMIT_TOKENS: int(50, 100_000).default(5000),
  LIMIT_DIRECTIVES: int(0, 1000).default(10),
  LIMIT_COST: int(10, 10_000_000).default(5000),
  LIMIT_SUBSCRIPTIONS_PER_SOCKET: int(1, 10_000).default(100),
  RATE_LIMIT_LOGIN_EMAIL: rate.prefault('10/15m'),
  RATE_LIMIT_LOGIN_IP: rate.prefault('100/15m'),
  RATE_LIMIT_SIGNUP_IP: rate.prefault('100/10m'),
  RATE_LIMIT_CREATE_TASK: rate.prefault('500/5s'),
  RATE_LIMIT_EXPENSIVE_IP: rate.prefault('600/10s'),
});

/** Environment variables as strings, the way `process.env` holds them (tests pass their own). */
export type Env = { [K in keyof z.input<typeof EnvSchema>]?: string };

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** A SQLite file path, `:memory:`, or a `postgres://` URL. */
  databaseUrl: string;
  redisUrl: string | undefined;
  /**
   * Starts every Redis key and channel of this deployment (pub/sub topics, rate-limit keys...), so
   * several deployments, or concurrent test runs, can share one Redis. @default 'aicp:'
   */
  redisPrefix: string;
  /** This process among the instances sharing the database: in health, and on the work it claims. */
  instanceId: string;
  jwt: { secret: string; ttlSeconds: number; issuer: string; audience: string };
  ai: {
    /** Unset with no base URL: the offline executor answers. */
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    maxRetries: number;
    retryBaseMs: number;
    /** The longest computed backoff; a server's Retry-After may ask for more. @default 32000 */
    retryCapMs: number;
    timeoutMs: number;
    concurrency: number;
  };
  taskLeaseSeconds: number;
  /** How long an EXTERNAL agent's running task waits for its operator to reconnect before going back to the queue. */
  externalGraceSeconds: number;
  /** The market's rules for review and fees (see `MarketRules`). */
  market: { reviewWindowSeconds: number; maxChangeRequests: number; platformFeeBps: number };
  admin: { email: string; password: string } | undefined;
  seedAgents: boolean;
  logLevel: string;
  version: string;
  /** Introspection and "Did you mean ..." suggestions: on outside production unless ALLOW_INTROSPECTION says. */
  allowIntrospection: boolean;
  /** Origins allowed to call the API from a browser; empty: same origin only; ['*']: any (never with credentials). */
  corsOrigins: string[];
  /** Take the client's address from X-Forwarded-For (behind a proxy) instead of the socket. */
  trustProxy: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  limits: OperationLimits;
  rateLimits: RateLimits;
}

/** What one GraphQL operation may ask for, refused before anything runs. */
export interface OperationLimits {
  maxBodyBytes: number;
  depth: number;
  aliases: number;
  tokens: number;
  directives: number;
  cost: number;
  /** Subscriptions one WebSocket may hold open at once. */
  subscriptionsPerSocket: number;
}

/** null: that limit is off. */
export interface RateLimits {
  logInPerEmail: Rate | null;
  logInPerIp: Rate | null;
  signUpPerIp: Rate | null;
  createTaskPerBuyer: Rate | null;
  expensivePerIp: Rate | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parse the environment once. Every problem is reported together, so a bad deployment is fixed in one go.
 * @param source defaults to `process.env`; tests pass their own.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(source);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const env = parsed.data;
  if (env && Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither');
  }
  if (env && env.NODE_ENV === 'production' && !env.JWT_SECRET) {
    problems.push('JWT_SECRET: required in production (at least 32 characters)');
  }
  if (problems.length > 0 || !env) throw new ConfigError(problems);

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    instanceId: env.INSTANCE_ID ?? defaultInstanceId(),
    jwt: {
      secret: env.JWT_SECRET ?? developmentSecret(env.DATABASE_URL),
      ttlSeconds: env.JWT_TTL_SECONDS,
      issuer: 'aicp',
      audience: 'aicp-api',
    },
    ai: {
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      model: env.AI_MODEL,
      maxRetries: env.AI_MAX_RETRIES,
      retryBaseMs: env.AI_RETRY_BASE_MS,
      retryCapMs: 32_000,
      timeoutMs: env.AI_TIMEOUT_MS,
      concurrency: env.AI_CONCURRENCY,
    },
    taskLeaseSeconds: env.TASK_LEASE_SECONDS,
    externalGraceSeconds: env.EXTERNAL_GRACE_SECONDS,
    market: { reviewWindowSeconds: env.REVIEW_WINDOW_SECONDS, maxChangeRequests: env.MAX_CHANGE_REQUESTS, platformFeeBps: env.PLATFORM_FEE_BPS },
    admin: env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD } : undefined,
    seedAgents: env.SEED_AGENTS,
    logLevel: env.LOG_LEVEL,
    version: packageVersion(),
    allowIntrospection: env.ALLOW_INTROSPECTION ?? env.NODE_ENV !== 'production',
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    trustProxy: env.TRUST_PROXY,
    metricsToken: env.METRICS_TOKEN,
    limits: {
      maxBodyBytes: env.MAX_BODY_BYTES,
      depth: env.LIMIT_DEPTH,
      aliases: env.LIMIT_ALIASES,
      tokens: env.LIMIT_TOKENS,
      directives: env.LIMIT_DIRECTIVES,
      cost: env.LIMIT_COST,
      subscriptionsPerSocket: env.LIMIT_SUBSCRIPTIONS_PER_SOCKET,
    },
    rateLimits: {
      logInPerEmail: env.RATE_LIMIT_LOGIN_EMAIL,
      logInPerIp: env.RATE_LIMIT_LOGIN_IP,
      signUpPerIp: env.RATE_LIMIT_SIGNUP_IP,
      createTaskPerBuyer: env.RATE_LIMIT_CREATE_TASK,
      expensivePerIp: env.RATE_LIMIT_EXPENSIVE_IP,
    },
  };
}

/**
 * Development only: a random secret kept beside the database, so tokens survive restarts without anyone
 * having to invent a secret. An in-memory or Postgres database gets one that lives as long as the process.
 */
function developmentSecret(databaseUrl: string): string {
  const isFile = !databaseUrl.startsWith('postgres') && databaseUrl !== ':memory:';
  if (!isFile) return randomBytes(32).toString('base64url');
  const path = join(dirname(resolve(databaseUrl.replace(/^file:/, ''))), '.jwt-secret');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, secret, { mode: 0o600 });
  return secret;
}

/**
 * Host and process id say where to look; the random part tells apart a restarted process that got the
 * same pid (a container restarts as pid 1 every time). Stable for the life of the process's config.
 */
function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function packageVersion(): string {
  const raw = readFileSync(join(projectRoot, 'package.json'), 'utf8');
  return (JSON.parse(raw) as { version: string }).version;
}
