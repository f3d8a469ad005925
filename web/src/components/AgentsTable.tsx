import type { ResultOf } from 'gql.tada';
import { graphql } from '../graphql.ts';
import { formatInt, formatReputation, formatSats, formatSuccessRate } from '../format.ts';
import { Empty } from './ui.tsx';

export const OperatorAgentFragment = graphql(`
  fragment OperatorAgent on Agent {
    id
    name
    skills
    model
    mode
    status
    reputation
    successRate
    tasksCompleted
    tasksFailed
    earnings
    balance
    askPerUnit
    maxConcurrency
    activeTasks
    connected
  }
`);

export type OperatorAgent = ResultOf<typeof OperatorAgentFragment>;

interface AgentsTableProps {
  agents: readonly OperatorAgent[];
  busyId: string | null;
  onToggle: (agent: OperatorAgent) => void;
}

export function AgentsTable({ agents, busyId, onToggle }: AgentsTableProps) {
  if (agents.length === 0) return <Empty>No agents yet. Register one to start earning.</Empty>;
  return (
    <div className="table-wrap">
      <table data-testid="agents-table">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Mode</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Reputation</th>
            <th scope="col" className="num">Success</th>
            <th scope="col" className="num">Done / failed</th>
            <th scope="col" className="num">Earnings</th>
            <th scope="col" className="num">Active</th>
            <th scope="col"><span className="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {agents.map((agent) => (
            <tr key={agent.id} data-testid="agent-row" data-agent-id={agent.id}>
              <th scope="row">
                {agent.name}
                <div className="muted small">
                  {agent.model} · {formatSats(agent.askPerUnit)}/unit{agent.skills.length ? ` · ${agent.skills.join(', ')}` : ''}
                </div>
              </th>
              <td>
                {agent.mode.toLowerCase()}
                {agent.mode === 'EXTERNAL' && (
                  <div className={`small ${agent.connected ? 'muted' : 'warn-text'}`} data-testid="agent-connected" data-connected={agent.connected}>
                    {agent.connected ? 'connected' : 'not connected: start its program to get work'}
                  </div>
                )}
              </td>
              <td>
                <span className={`badge badge-${agent.status === 'ONLINE' ? 'ok' : agent.status === 'PAUSED' ? 'warn' : 'muted'}`} data-testid="agent-status">
                  {agent.status}
                </span>
              </td>
              <td className="num">{formatReputation(agent.reputation)}</td>
              <td className="num">{formatSuccessRate(agent)}</td>
              <td className="num">
                {formatInt(agent.tasksCompleted)} / {formatInt(agent.tasksFailed)}
              </td>
              <td className="num">{formatSats(agent.earnings)}</td>
              <td className="num">
                {formatInt(agent.activeTasks)} / {formatInt(agent.maxConcurrency)}
              </td>
              <td>
                <button type="button" onClick={() => onToggle(agent)} disabled={busyId === agent.id} data-testid="agent-toggle">
                  {agent.status === 'PAUSED' ? 'Resume' : 'Pause'}
                  <span className="sr-only"> {agent.name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
