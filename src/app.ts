import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { createYoga } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { pino, type Logger } from 'pino';
import { type DocumentNode, type ExecutionArgs, GraphQLError } from 'graphql';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { Identities } from './auth/identity.ts';
import { Tokens } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { type Context, createContext, type Services } from './context.ts';
import { createDb } from './db/create-db.ts';
import { defaultRetryPolicy } from './db/transient.ts';
import { Coordinator } from './engine/coordinator.ts';
import { createExecutor } from './engine/create-executor.ts';
import { useRequestBodyLimit } from './http/body-limit.ts';
import { resultWithCodes, useErrorCodes, withCodes } from './http/error-codes.ts';
import { createMaskError } from './http/errors.ts';
import { Metrics } from './http/metrics.ts';
import { useOperationLimits } from './http/operation-limits.ts';
import { useOperationLog, yogaLogging } from './http/operation-log.ts';
import { createProbeHandler } from './http/probes.ts';
import { clientIpOf, useRateLimits } from './http/rate-limit-plugin.ts';
import { openRedis, RateLimiter } from './http/rate-limits.ts';
import { corsOptions, useCsrfGuard } from './http/request-guard.ts';
import { useTextGuard } from './http/text-guard.ts';
import { createStaticAssetHandler } from './http/static-assets.ts';
import { AccountNews } from './live/account-news.ts';
import { AgentDirectory } from './live/agent-directory.ts';
import { TaskEventHub } from './live/event-hub.ts';
import { Presence } from './live/presence.ts';
import { useSharedSubscriptionResults } from './live/shared-execution.ts';
import { closeAtTokenExpiry, useSubscriptionsEndAtTokenExpiry } from './live/token-expiry.ts';
import { StatsFeed } from './live/stats-feed.ts';
import { bootstrapMarket } from './market/bootstrap.ts';
import { eventsAfter, latestSequence } from './market/events.ts';
import { accountOwners } from './market/ledger.ts';
import { marketStats } from './market/stats.ts';
import { type Committed, GroupCommit, type Store } from './market/store.ts';
import { projectRoot } from './paths.ts';
import { createAppPubSub, toMessage } from './pubsub.ts';
import { schema } from './schema/index.ts';

export interface App {
  /** Listen; resolves with the address (port 0 picks a free one). */
  start(): Promise<{ url: string; port: number }>;
  /** Graceful stop: no new work, in-flight calls finish (or hand their tasks back), sockets and db closed. */
  stop(options?: { graceMs?: number }): Promise<void>;
  services: Services;
}

export interface AppOptions {
  logger?: Logger;
}

/**
 * Wire everything together: database, pub/sub, engine, the GraphQL server over HTTP, SSE and WebSocket,
 * and the dashboard's static files. Nothing listens until `start()`.
 */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'aicp' }, redact: { paths: REDACTED, censor: '[redacted]' } });
  const db = await createDb(config.databaseUrl);
  const { pubsub, health: pubsubHealth, close: closePubSub } = await createAppPubSub(config.redisUrl, config.redisPrefix);
  const redis = config.redisUrl ? await openRedis(config.redisUrl) : undefined;
  const stats = new StatsFeed(db.kysely, logger);
  const hub = new TaskEventHub(pubsub, logger, {
    after: (afterSequence, limit) => eventsAfter(db.kysely, afterSequence, limit),
    latest: () => latestSequence(db.kysely),
  });
  // Every task event, including other instances' (Redis), may change the stats.
  hub.onEvent(() => stats.changed());
  let wsServerForMetrics: WebSocketServer | undefined;
  const metrics = new Metrics({
    tasksByStatus: async () => (await marketStats(db.kysely)).tasksByStatus,
    openSubscriptions: () => hub.subscriberCount,
    openWebSockets: () => wsServerForMetrics?.clients.size ?? 0,
  });
  const executor = metrics.instrument(createExecutor(config.ai, logger));
  const agents = new AgentDirectory(db.kysely);
  const accountNews = new AccountNews(pubsub, logger, (accounts) => accountOwners(db.kysely, accounts, (agentId) => agents.load(agentId)));

  let coordinator: Coordinator | undefined;
  const store: Store = {
    db: db.kysely,
    dialect: db.dialect,
    now: () => Date.now(),
    rules: config.market,
    // Recorded on every claim (tasks.claimed_by): which instance runs an attempt.
    instanceId: config.instanceId,
    ...(db.dialect === 'sqlite' && { groupCommit: new GroupCommit() }),
    retry: {
      ...defaultRetryPolicy,
      onRetry: (error, attempt) => logger.debug({ err: error, attempt }, 'transaction conflicted with another; running it again'),
    },
    onCommit: (changes: Committed) => {
      for (const event of changes.events) pubsub.publish('task:event', toMessage(event));
      // Task events reach the stats through the hub (local and remote alike); this covers agent changes.
      if (changes.capacityFreed) stats.changed();
      if (changes.capacityFreed || changes.events.some((e) => e.status === 'PENDING')) coordinator?.kick();
      if (changes.accounts.length > 0) accountNews.moved(changes.accounts);
      // A rework claimed here (requestChanges): run it here if its agent is MANAGED.
      for (const event of changes.events) {
        if (event.kind === 'CHANGES_REQUESTED') void coordinator?.resume(event.taskId).catch((error: unknown) => logger.error({ err: error, task: event.taskId }, 'starting a rework failed'));
      }
    },
  };
  coordinator = new Coordinator({ store, executor, config, logger });
  const presence = new Presence({
    db: db.kysely,
    logger,
    leaseMs: config.taskLeaseSeconds * 1000,
    graceMs: config.externalGraceSeconds * 1000,
    onConnect: () => coordinator?.kick(),
  });

  const services: Services = {
    config,
    logger,
    db,
    store,
    tokens: new Tokens(config.jwt),
    rateLimits: new RateLimiter(config.rateLimits, { redis, keyPrefix: config.redisPrefix, onRefused: (rule) => metrics.rateLimited.inc({ rule }) }),
    identities: new Identities(store),
    pubsub,
    pubsubHealth,
    instanceId: config.instanceId,
    stats,
    agents,
    hub,
    accountNews,
    coordinator,
    presence,
    executor,
    startedAt: Date.now(),
  };

  const yoga = createYoga<{ connectionParams?: Record<string, unknown>; req?: IncomingMessage }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // GraphiQL from our own bundle (no CDN): it works offline, and not at all in production.
    graphiql: config.env !== 'production' ? { subscriptionsProtocol: 'WS' } : false,
    renderGraphiQL,
    landingPage: false,
    cors: corsOptions(config.corsOrigins),
    logging: yogaLogging(logger),
    maskedErrors: { maskError: createMaskError(logger) },
    // The body limit is enforced by useRequestBodyLimit without streaming every body (see there).
    maxRequestBodySize: false,
    plugins: [
      ...useCsrfGuard(),
      useRequestBodyLimit(config.limits.maxBodyBytes),
      useOperationLog(logger, metrics),
      useErrorCodes(),
      ...useOperationLimits(config.limits, { allowIntrospection: config.allowIntrospection }),
      useTextGuard(),
      useSubscriptionsEndAtTokenExpiry(),
      useRateLimits(services.rateLimits),
      compiledQueriesAndMutations(logger),
      useSharedSubscriptionResults(),
    ],
    context: ({ request, connectionParams, req }) =>
      createContext(
        services,
        connectionParams ? stringOrNull(connectionParams.authorization) : request.headers.get('authorization'),
        clientIpOf(req, config.trustProxy),
      ),
  });

  const staticAssets = createStaticAssetHandler(join(projectRoot, 'web', 'dist'));
  const probes = createProbeHandler({ db, redis, metrics, metricsToken: config.metricsToken });
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/graphql')) return void yoga(req, res);
    if (probes(req, res)) return;
    if (!staticAssets(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
    }
  });

  // A client that trickles its headers or body (slowloris) is cut off instead of holding a socket for the
  // default 60 s / 5 min. Answers may take as long as they take: SSE streams are not affected.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;

  // A WebSocket message may be as large as an HTTP body, no larger (ws closes the socket with 1009).
  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: config.limits.maxBodyBytes });
  wsServerForMetrics = wsServer;
  // A client's protocol mistake (a message over maxPayload, a bad frame) closes its socket (ws does that,
  // 1009 / 1002); graphql-ws would also print it as an internal error. It is logged at debug instead.
  wsServer.on('connection', (socket) => {
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'error' && isClientFrameError(args[0])) {
        logger.debug({ err: String(args[0]) }, 'WebSocket client sent a bad frame; socket closed');
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
  });
  const wsDisposable = useServer(
    {
      execute: (args) => (args.rootValue as Envelope).execute(args),
      subscribe: (args) => (args.rootValue as Envelope).subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        // Each subscription holds a listener and its queue: one socket may not hold more than this.
        if (Object.keys(ctx.subscriptions).length > config.limits.subscriptionsPerSocket) {
          // (This one is already in the record.)
          return [
            new GraphQLError(`At most ${config.limits.subscriptionsPerSocket} subscriptions per connection: close one, or open another connection`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
            }),
          ];
        }
        const { schema: enveloped, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams ?? {},
        });
        // The same refusals as over HTTP, each with its code: a parse error (or the token limit) is thrown.
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return withCodes([error instanceof GraphQLError ? error : new GraphQLError('Syntax Error: the query could not be parsed')]);
        }
        const errors = validate(enveloped, document);
        if (errors.length > 0) return withCodes(errors);
        const contextValue = await contextFactory();
        if (contextValue.tokenExpiresAt !== null) closeAtTokenExpiry(ctx.extra.socket, contextValue.tokenExpiresAt);
        const args: ExecutionArgs = {
          schema: enveloped,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
        return args;
      },
      onNext: (_ctx, _id, _payload, _args, result) => resultWithCodes(result),
      onError: (_ctx, _id, _payload, errors) => withCodes(errors),
    },
    wsServer,
  );

  let stopped = false;
  return {
    services,
    async start() {
      await bootstrapMarket(store, config);
      await hub.start();
      accountNews.start();
      presence.start();
      await coordinator.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      const url = `http://${host}:${port}`;
      logger.info({ url, instance: config.instanceId, database: db.describe, ai: executor.health().detail }, 'AICP is listening');
      return { url, port };
    },
    async stop({ graceMs = 10_000 } = {}) {
      if (stopped) return;
      stopped = true;
      server.close();
      await coordinator.stop(graceMs);
      await wsDisposable.dispose();
      for (const client of wsServer.clients) client.terminate();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      await presence.stop();
      server.closeAllConnections();
      stats.close();
      hub.stop();
      accountNews.stop();
      await executor.close();
      await closePubSub();
      await redis?.quit().catch(() => undefined);
      await db.close();
      logger.info('AICP stopped');
    },
  };
}

/**
 * Each distinct query or mutation is compiled once to a JavaScript function (graphql-jit), which executes a
 * page of agents in half the time of graphql-js's generic walk. Subscriptions stay on graphql-js: jit's
 * subscribe drops events of argument-filtered streams (taskEvents), which the subscription tests catch.
 */
function compiledQueriesAndMutations(logger: Logger): Omit<ReturnType<typeof useGraphQlJit>, 'onSubscribe'> {
  const { onSubscribe: _subscriptionsStayUncompiled, ...jit } = useGraphQlJit(
    {},
    { onError: (failure) => logger.warn({ errors: failure.errors }, 'graphql-jit could not compile an operation; it runs uncompiled') },
  );
  return jit;
}

/** Never written to the log, wherever they appear in a logged object. */
const REDACTED = ['authorization', 'password', 'token', '*.authorization', '*.password', '*.token', '*.headers.authorization', 'req.headers.cookie'];

interface Envelope {
  execute: (args: ExecutionArgs) => ReturnType<typeof import('graphql').execute>;
  subscribe: (args: ExecutionArgs) => ReturnType<typeof import('graphql').subscribe>;
}

/** ws's errors about what a client sent (its `code` is WS_ERR_...), as opposed to failures of our own. */
function isClientFrameError(error: unknown): boolean {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('WS_ERR_');
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
