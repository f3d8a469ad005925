import type { ResultOf } from 'gql.tada';
import { graphql } from '../graphql.ts';
import { formatUptime } from '../format.ts';
import { HealthBadge } from './ui.tsx';

export const HealthFragment = graphql(`
  fragment HealthPanel on Health {
    status
    version
    uptimeSeconds
    database { status detail latencyMs }
    ai { status detail latencyMs }
  }
`);

type Health = ResultOf<typeof HealthFragment>;

function latency(ms: number | null): string {
  return ms == null ? '' : ` · ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** `health` null with `unreachable` set: the API did not answer, which is a DOWN of its own. */
export function HealthPanel({ health, unreachable }: { health: Health | null; unreachable: boolean }) {
  if (!health) {
    return unreachable ? (
      <div className="health-overall">
        <HealthBadge status="DOWN" testId="health-status" /> <span>API unreachable; retrying.</span>
      </div>
    ) : (
      <p className="muted">Checking…</p>
    );
  }
  return (
    <>
      <div className="health-overall">
        <HealthBadge status={unreachable ? 'DOWN' : health.status} testId="health-status" />
        <span className="muted">
          {unreachable ? 'API unreachable; last known state below.' : `v${health.version} · up ${formatUptime(health.uptimeSeconds)}`}
        </span>
      </div>
      <dl className="health-list">
        <div>
          <dt>Database</dt>
          <dd>
            <HealthBadge status={health.database.status} testId="health-database" />
            <span className="detail">
              {health.database.detail ?? ''}
              {latency(health.database.latencyMs)}
            </span>
          </dd>
        </div>
        <div>
          <dt>AI model</dt>
          <dd>
            <HealthBadge status={health.ai.status} testId="health-ai" />
            <span className="detail" data-testid="health-ai-detail">
              {health.ai.detail ?? ''}
              {latency(health.ai.latencyMs)}
            </span>
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd data-testid="health-version">{health.version}</dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd data-testid="health-uptime">{formatUptime(health.uptimeSeconds)}</dd>
        </div>
      </dl>
    </>
  );
}
