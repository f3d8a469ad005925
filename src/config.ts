import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
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

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.string().min(1).default('./data/aicp.sqlite'),
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
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
  ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email().optional()),
  ADMIN_PASSWORD: z.preprocess(emptyAsUndefined, z.string().min(8, 'must be at least 8 characters').optional()),
  SEED_AGENTS: boolish.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  admin: { email: string; password: string } | undefined;
  seedAgents: boolean;
  logLevel: string;
  version: string;
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
    admin: env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD } : undefined,
    seedAgents: env.SEED_AGENTS,
    logLevel: env.LOG_LEVEL,
    version: packageVersion(),
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

function packageVersion(): string {
  const raw = readFileSync(join(projectRoot, 'package.json'), 'utf8');
  return (JSON.parse(raw) as { version: string }).version;
}
