import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Executor } from '../engine/executor.ts';

/** What /metrics reads at each scrape, from the rest of the app. */
export interface MetricSources {
  tasksByStatus(): Promise<{ status: string; count: number }[]>;
  openSubscriptions(): number;
  openWebSockets(): number;
}

/**
 * The app's Prometheus metrics (prom-client), in a registry of its own (several apps may share a process
 * in tests). Labels are bounded: `operation` is the operation's first root field (only fields the schema
 * has pass validation) or "(refused)", never the client's operationName; `code` is an extensions.code.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly operations = new Counter({
    name: 'aicp_graphql_operations_total',
    help: 'GraphQL operations answered, by root field, type and outcome (OK or the first error code).',
    labelNames: ['operation', 'type', 'code'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'aicp_graphql_errors_total',
    help: 'Errors in GraphQL answers, by root field and code.',
    labelNames: ['operation', 'code'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'aicp_graphql_operation_duration_seconds',
    help: 'Time from the start of execution to the answer (subscriptions: to their first result), by root field and type.',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'aicp_rate_limited_total',
    help: 'Calls refused with RATE_LIMITED (HTTP 429 over HTTP), by rule.',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });
  readonly providerCalls = new Counter({
    name: 'aicp_provider_calls_total',
    help: 'Tasks executed through the LLM provider, by outcome (ok, or whose fault the failure was: agent, provider, aborted).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly providerRetries = new Counter({
    name: 'aicp_provider_retries_total',
    help: 'Calls to the provider beyond the first for a task (retries after 429s, 5xx and timeouts).',
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    new Gauge({
      name: 'aicp_tasks',
      help: 'Tasks by status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        for (const { status, count } of await sources.tasksByStatus()) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'aicp_open_subscriptions',
      help: 'Live task-event subscriptions on this instance (SSE and graphql-ws).',
      registers: [this.registry],
      collect() {
        this.set(sources.openSubscriptions());
      },
    });
    new Gauge({
      name: 'aicp_open_websockets',
      help: 'Open graphql-ws connections on this instance.',
      registers: [this.registry],
      collect() {
        this.set(sources.openWebSockets());
      },
    });
  }

  /** The executor, counting each task's provider calls and retries on the way through. */
  instrument(executor: Executor): Executor {
    return {
      execute: async (request) => {
        let attempts = 0;
        const outcome = await executor.execute({ ...request, onAttempt: () => (attempts++, request.onAttempt()) });
        if (attempts > 1) this.providerRetries.inc(attempts - 1);
        this.providerCalls.inc({ outcome: outcome.ok ? 'ok' : outcome.blame });
        return outcome;
      },
      health: () => executor.health(),
      close: () => executor.close(),
    };
  }
}
