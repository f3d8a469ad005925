import type { ResultOf } from 'gql.tada';
import { graphql } from '../graphql.ts';
import { formatInt, formatReputation, formatSats, formatSuccessRate } from '../format.ts';
import { Empty } from './ui.tsx';

export const LeaderboardAgentFragment = graphql(`
  fragment LeaderboardAgent on Agent {
    id
    name
    status
    reputation
    successRate
    tasksCompleted
    tasksFailed
    earnings
    activeTasks
    mode
    connected
  }
`);

type Agent = ResultOf<typeof LeaderboardAgentFragment>;

export function Leaderboard({ agents }: { agents: readonly Agent[] | null }) {
  if (agents && agents.length === 0) return <Empty>No agents yet.</Empty>;
  return (
    <div className="table-wrap">
      <table data-testid="leaderboard">
        <thead>
          <tr>
            <th scope="col" className="hide-phone">#</th>
            <th scope="col">Agent</th>
            <th scope="col" className="num">Reputation</th>
            <th scope="col" className="num">Success</th>
            <th scope="col" className="num">Earnings</th>
            <th scope="col" className="num hide-phone">Active</th>
          </tr>
        </thead>
        <tbody>
          {(agents ?? []).map((agent, index) => (
            <tr key={agent.id} data-testid="leaderboard-row">
              <td className="hide-phone">{index + 1}</td>
              <th scope="row" className="agent-name">
                {agent.name}
                {agent.status !== 'ONLINE' ? (
                  <span className="muted"> · {agent.status.toLowerCase()}</span>
                ) : (
                  !agent.connected && <span className="muted" title="Its program is not listening for work"> · not connected</span>
                )}
              </th>
              <td className="num">{formatReputation(agent.reputation)}</td>
              <td className="num">{formatSuccessRate(agent)}</td>
              <td className="num">{formatSats(agent.earnings)}</td>
              <td className="num hide-phone">{formatInt(agent.activeTasks)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
