import { createPubSub, type PubSub, type PubSubEvent } from 'graphql-yoga';
import type { TaskEvent } from './market/model.ts';

/**
 * Typed topics. Payloads are plain JSON (dates as epoch milliseconds) because with REDIS_URL set they
 * cross process boundaries; `fromMessage` turns them back into domain objects.
 */
export type TaskEventMessage = Omit<TaskEvent, 'at'> & { at: number };

export type Topics = {
  /** Every task event: drives `taskEvents`, `taskUpdated` and `agentAssignments` (see live/event-hub.ts). */
  'task:event': [TaskEventMessage];
  /** Money moved for these users (their wallet, their agents' wallets or their escrows): drives `accountUpdated` (see live/account-news.ts). */
  'account:changed': [{ userIds: string[] }];
};

export type AppPubSub = PubSub<Topics>;

export interface PubSubHealth {
  status: 'OK' | 'DEGRADED' | 'DOWN';
  /** "in-process", or the Redis server, prefix and state. */
  detail: string;
  /** A PING's round trip, when Redis answered one. */
  latencyMs: number | null;
}

export interface PubSubHandle {
  pubsub: AppPubSub;
  health(): Promise<PubSubHealth>;
  close(): Promise<void>;
}

/**
 * In-memory by default; with REDIS_URL, Redis pub/sub so every instance sees every event. The Redis client
 * is loaded only then (it costs ~15 MB of a server that does not use it). Every channel starts with
 * `redisPrefix` (REDIS_PREFIX), so deployments and test runs sharing one Redis do not hear each other.
 */
export async function createAppPubSub(redisUrl: string | undefined, redisPrefix = ''): Promise<PubSubHandle> {
  if (!redisUrl) {
    return { pubsub: createPubSub<Topics>(), health: async () => ({ status: 'OK', detail: 'in-process', latencyMs: null }), close: async () => {} };
  }
  const [{ Redis }, { createRedisEventTarget }] = await Promise.all([import('ioredis'), import('@graphql-yoga/redis-event-target')]);
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  // A SUBSCRIBE issued while Redis is away must wait for it, however long: no retry limit on this one.
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
  // ioredis reconnects by itself; without a listener each failed attempt is also printed as unhandled.
  let lastError: string | undefined;
  for (const client of [publishClient, subscribeClient]) client.on('error', (error: Error) => (lastError = error.message));
  // The event target drops the promise PUBLISH returns: with Redis away long enough it would reject
  // unhandled and end the process. What it published is in the database; the news is what is lost.
  const publisher = {
    publish: (channel: string, message: string) =>
      publishClient.publish(channel, message).catch((error: Error) => {
        lastError = `publish failed: ${error.message}`;
        return 0;
      }),
  };
  const eventTarget = createRedisEventTarget<PubSubEvent<Topics, keyof Topics>>({
    // Adapter: the target only ever calls publish(channel, message) on its publishClient.
    publishClient: publisher as unknown as typeof publishClient,
    subscribeClient,
  });
  const { host, port } = new URL(redisUrl);
  const where = `redis ${host}${port ? '' : ':6379'} prefix "${redisPrefix}"`;
  return {
    pubsub: createPubSub<Topics>({ eventTarget: prefixedTopics(eventTarget, redisPrefix) }),
    health: () => redisHealth(where, [publishClient, subscribeClient], () => lastError),
    close: async () => {
      // QUIT waits for a connection; one still (re)connecting is just dropped.
      await Promise.allSettled([publishClient, subscribeClient].map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    },
  };
}

type AppEventTarget = NonNullable<NonNullable<Parameters<typeof createPubSub<Topics>>[0]>['eventTarget']>;

/** The same event target with `prefix` before every topic on the wire; listeners never see it. */
function prefixedTopics(target: AppEventTarget, prefix: string): AppEventTarget {
  if (!prefix) return target;
  return {
    addEventListener: (topic, listener) => target.addEventListener(`${prefix}${topic}`, listener),
    removeEventListener: (topic, listener) => target.removeEventListener(`${prefix}${topic}`, listener),
    dispatchEvent: (event) => target.dispatchEvent(new CustomEvent(`${prefix}${event.type}`, { detail: event.detail })) as boolean,
  } as AppEventTarget;
}

interface RedisClientState {
  /** ioredis: wait, connecting, connect, ready, reconnecting, close, end. */
  readonly status: string;
  ping(): Promise<string>;
}

const PING_TIMEOUT_MS = 1000;

/**
 * OK when both connections are ready and a PING comes back within a second; DEGRADED while ioredis
 * reconnects (events of other instances are not reaching this one); DOWN once a connection has given up.
 */
async function redisHealth(where: string, clients: RedisClientState[], lastError: () => string | undefined): Promise<PubSubHealth> {
  const states = clients.map((c) => c.status);
  const why = lastError() ? ` (last error: ${lastError()})` : '';
  if (states.some((s) => s === 'end' || s === 'close')) return { status: 'DOWN', detail: `${where}: disconnected${why}`, latencyMs: null };
  if (states.some((s) => s !== 'ready')) return { status: 'DEGRADED', detail: `${where}: ${states.includes('reconnecting') ? 'reconnecting' : 'connecting'}${why}`, latencyMs: null };
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      clients[0]?.ping(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no PONG within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS))),
    ]);
    return { status: 'OK', detail: `${where}: connected`, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { status: 'DEGRADED', detail: `${where}: ${(error as Error).message}`, latencyMs: null };
  } finally {
    clearTimeout(timer);
  }
}

export const toMessage = (event: TaskEvent): TaskEventMessage => ({ ...event, at: event.at.getTime() });
export const fromMessage = (message: TaskEventMessage): TaskEvent => ({ ...message, at: new Date(message.at) });
