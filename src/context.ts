import type { Logger } from 'pino';
import type { Identities } from './auth/identity.ts';
import type { RateLimiter } from './http/rate-limits.ts';
import { bearerToken, TokenError, type Tokens } from './auth/tokens.ts';
import type { Config } from './config.ts';
import type { Db } from './db/create-db.ts';
import type { Coordinator } from './engine/coordinator.ts';
import type { Executor } from './engine/executor.ts';
import type { AccountNews } from './live/account-news.ts';
import type { AgentDirectory } from './live/agent-directory.ts';
import type { TaskEventHub } from './live/event-hub.ts';
import type { Presence } from './live/presence.ts';
import type { StatsFeed } from './live/stats-feed.ts';
import type { Viewer } from './market/model.ts';
import type { Store } from './market/store.ts';
import type { AppPubSub, PubSubHealth } from './pubsub.ts';
import { createLoaders, type Loaders } from './schema/loaders.ts';

/** Long-lived parts of the app, built once in `buildApp` and shared by every request. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Db;
  store: Store;
  tokens: Tokens;
  identities: Identities;
  rateLimits: RateLimiter;
  pubsub: AppPubSub;
  /** In-process, or Redis and its connection state (`health.pubsub`). */
  pubsubHealth(): Promise<PubSubHealth>;
  /** This process among the instances sharing the database (`health.instance`; config.instanceId). */
  instanceId: string;
  stats: StatsFeed;
  agents: AgentDirectory;
  hub: TaskEventHub;
  accountNews: AccountNews;
  coordinator: Coordinator;
  /** Which EXTERNAL agents' operators listen here (see live/presence.ts). */
  presence: Presence;
  executor: Executor;
  startedAt: number;
}

export interface Context {
  /** Who is asking; null when anonymous or when the token was not accepted. */
  viewer: Viewer | null;
  /** Why a presented token was not accepted ("token expired"), for the UNAUTHENTICATED message. */
  authProblem: string | null;
  /** When the accepted token expires (ms since the epoch): a live subscription ends then. */
  tokenExpiresAt: number | null;
  /** The caller's network address (see clientIpOf), for the per-address rate limits. */
  clientIp: string;
  services: Services;
  /** Per-request (per-operation for subscriptions) batching loaders. */
  loaders: Loaders;
  /**
   * The newest task event this instance had passed on when the operation began, before any of its reads:
   * a snapshot read by the operation reflects at least every event up to it (Query.eventSequence).
   */
  eventSequence: number;
}

/**
 * The one auth path for HTTP and WebSocket: HTTP passes its Authorization header, graphql-ws passes
 * `connectionParams.authorization`. A bad token does not fail the request: the caller is anonymous, and
 * fields that need a role answer UNAUTHENTICATED with the reason.
 */
export async function createContext(services: Services, authorization: string | null | undefined, clientIp = 'unknown'): Promise<Context> {
  let viewer: Viewer | null = null;
  let authProblem: string | null = null;
  let tokenExpiresAt: number | null = null;
  const token = bearerToken(authorization);
  if (authorization && !token) authProblem = 'Authorization must be "Bearer <token>"';
  if (token) {
    try {
      const verified = await services.tokens.verifyWithExpiry(token);
      authProblem = await services.identities.problemWith(verified.viewer);
      if (!authProblem) {
        viewer = verified.viewer;
        tokenExpiresAt = verified.expiresAtSeconds * 1000;
      }
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      authProblem = error.message;
    }
  }
  return { viewer, authProblem, tokenExpiresAt, clientIp, services, loaders: createLoaders(services.store), eventSequence: services.hub.position };
}
