import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub, type PubSubEvent } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { TaskEvent } from './market/model.ts';
import type { StatsSnapshot } from './live/stats-feed.ts';

/**
 * Typed topics. Payloads are plain JSON (dates as epoch milliseconds) because with REDIS_URL set they
 * cross process boundaries; `fromMessage` turns them back into domain objects.
 */
export type TaskEventMessage = Omit<TaskEvent, 'at'> & { at: number };

export type Topics = {
  /** Every task event: drives `taskEvents`, `taskUpdated` and `agentAssignments` (see live/event-hub.ts). */
  'task:event': [TaskEventMessage];
  /** A fresh stats snapshot, already throttled by the publisher. */
  stats: [StatsSnapshot];
};

export type AppPubSub = PubSub<Topics>;

export interface PubSubHandle {
  pubsub: AppPubSub;
  close(): Promise<void>;
}

/** In-memory by default; with REDIS_URL, Redis pub/sub so every instance sees every event. */
export function createAppPubSub(redisUrl: string | undefined): PubSubHandle {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), close: async () => {} };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const eventTarget = createRedisEventTarget<PubSubEvent<Topics, keyof Topics>>({ publishClient, subscribeClient });
  return {
    pubsub: createPubSub<Topics>({ eventTarget }),
    close: async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

export const toMessage = (event: TaskEvent): TaskEventMessage => ({ ...event, at: event.at.getTime() });
export const fromMessage = (message: TaskEventMessage): TaskEvent => ({ ...message, at: new Date(message.at) });
