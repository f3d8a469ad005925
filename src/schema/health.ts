import { sql } from 'kysely';
import { builder } from './builder.ts';
import { HealthStatusEnum } from './enums.ts';

type Status = 'OK' | 'DEGRADED' | 'DOWN';

interface ComponentHealth {
  status: Status;
  detail: string | null;
  latencyMs: number | null;
}

interface Health {
  status: Status;
  database: ComponentHealth;
  ai: ComponentHealth;
  version: string;
  uptimeSeconds: number;
  pubsub: ComponentHealth;
  instance: string;
}

const ComponentHealthRef = builder.objectRef<ComponentHealth>('ComponentHealth').implement({
  fields: (t) => ({
    status: t.field({ type: HealthStatusEnum, resolve: (c) => c.status }),
    detail: t.exposeString('detail', { nullable: true, description: 'e.g. the database dialect, or the model and endpoint the executor uses.' }),
    latencyMs: t.exposeFloat('latencyMs', { nullable: true }),
  }),
});

const HealthRef = builder.objectRef<Health>('Health').implement({
  fields: (t) => ({
    status: t.field({ type: HealthStatusEnum, resolve: (h) => h.status }),
    database: t.field({ type: ComponentHealthRef, resolve: (h) => h.database }),
    ai: t.field({ type: ComponentHealthRef, resolve: (h) => h.ai }),
    version: t.exposeString('version'),
    uptimeSeconds: t.exposeFloat('uptimeSeconds'),
    pubsub: t.field({
      type: ComponentHealthRef,
      description: 'since 2026-12. The event bus: in-process, or Redis with its state.',
      resolve: (h) => h.pubsub,
    }),
    instance: t.exposeString('instance', { description: 'since 2026-12. Which instance answered (stable for the life of the process).' }),
  }),
});

const worst = (...statuses: Status[]): Status => (statuses.includes('DOWN') ? 'DOWN' : statuses.includes('DEGRADED') ? 'DEGRADED' : 'OK');

builder.queryField('health', (t) =>
  t.field({
    type: HealthRef,
    resolve: async (_root, _args, { services }) => {
      const started = performance.now();
      let database: ComponentHealth;
      try {
        await sql`select 1`.execute(services.store.db);
        database = { status: 'OK', detail: services.db.describe, latencyMs: round(performance.now() - started) };
      } catch (error) {
        database = { status: 'DOWN', detail: `${services.db.describe}: ${(error as Error).message}`, latencyMs: null };
      }
      const ai = services.executor.health();
      const pubsub = await services.pubsubHealth();
      return {
        status: worst(database.status, ai.status, pubsub.status),
        database,
        ai: { status: ai.status, detail: ai.detail, latencyMs: ai.latencyMs },
        version: services.config.version,
        uptimeSeconds: round((Date.now() - services.startedAt) / 1000),
        pubsub,
        instance: services.instanceId,
      };
    },
  }),
);

const round = (n: number) => Math.round(n * 100) / 100;
