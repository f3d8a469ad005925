import type { IncomingMessage, ServerResponse } from 'node:http';
import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { Db } from '../db/create-db.ts';
import type { Metrics } from './metrics.ts';

/** How long a readiness check waits for the database or Redis before calling it down. */
const CHECK_TIMEOUT_MS = 2000;

interface ComponentState {
  status: 'up' | 'down';
  latencyMs?: number;
  error?: string;
}

async function timed(check: () => Promise<unknown>): Promise<ComponentState> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    // The reason, bounded: an operator reads it; nothing secret is in a driver's connection error.
    return { status: 'down', error: String((error as Error).message ?? error).slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

const LIVENESS = new Set(['/health', '/healthz', '/livez']);
const READINESS = new Set(['/ready', '/readyz']);

/**
 * Plain HTTP routes for load balancers and Kubernetes, answered before the dashboard's files:
 * - GET /health (also /healthz, /livez): 200 while the process serves requests;
 * - GET /ready (also /readyz): 200 when the database answers a query and, with REDIS_URL, Redis a PING;
 *   503 otherwise, with each component's state;
 * - GET /metrics: Prometheus text; with METRICS_TOKEN it needs `Authorization: Bearer <token>`.
 * Returns false for any other path.
 */
export function createProbeHandler(options: { db: Db; redis: Redis | undefined; metrics: Metrics; metricsToken: string | undefined }) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!LIVENESS.has(path) && !READINESS.has(path) && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed');
      return true;
    }
    if (LIVENESS.has(path)) {
      json(res, 200, { status: 'ok' });
      return true;
    }
    if (READINESS.has(path)) {
      void ready(options).then(({ ok, components }) => json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable', components }));
      return true;
    }
    if (options.metricsToken && req.headers.authorization !== `Bearer ${options.metricsToken}`) {
      res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain; charset=utf-8' }).end('Unauthorized');
      return true;
    }
    void options.metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable'),
    );
    return true;
  };
}

async function ready(options: { db: Db; redis: Redis | undefined }): Promise<{ ok: boolean; components: Record<string, ComponentState> }> {
  const checks: Record<string, Promise<ComponentState>> = { database: timed(() => sql`select 1`.execute(options.db.kysely)) };
  const redis = options.redis;
  if (redis) checks.redis = timed(() => redis.ping());
  const components = Object.fromEntries(await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await check] as const)));
  return { ok: Object.values(components).every((c) => c.status === 'up'), components };
}
