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

export interface PubSubHandle {
  pubsub: AppPubSub;
  close(): Promise<void>;
}

/**
 * In-memory by default; with REDIS_URL, Redis pub/sub so every instance sees every event. The Redis client
 * is loaded only then (it costs ~15 MB of a server that does not use it).
 */
export async function createAppPubSub(redisUrl: string | undefined): Promise<PubSubHandle> {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), close: async () => {} };
  const [{ Redis }, { createRedisEventTarget }] = await Promise.all([import('ioredis'), import('@graphql-yoga/redis-event-target')]);
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
