import type { ResultOf } from 'gql.tada';
import { graphql } from '../graphql.ts';
import { formatInt, formatPercent, formatReputation, formatSats } from '../format.ts';
import { Empty } from './ui.tsx';

export const LeaderboardAgentFragment = graphql(`
  fragment LeaderboardAgent on Agent {
    id
    name
    status
    reputation
    successRate
    tasksCompleted
    earnings
    activeTasks
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
            <th scope="col">#</th>
            <th scope="col">Agent</th>
            <th scope="col" className="num">Reputation</th>
            <th scope="col" className="num">Success</th>
            <th scope="col" className="num">Earnings</th>
            <th scope="col" className="num">Active</th>
          </tr>
        </thead>
        <tbody>
          {(agents ?? []).map((agent, index) => (
            <tr key={agent.id} data-testid="leaderboard-row">
              <td>{index + 1}</td>
              <th scope="row">
                {agent.name}
                {agent.status !== 'ONLINE' && <span className="muted"> · {agent.status.toLowerCase()}</span>}
              </th>
              <td className="num">{formatReputation(agent.reputation)}</td>
              <td className="num">{formatPercent(agent.successRate)}</td>
              <td className="num">{formatSats(agent.earnings)}</td>
              <td className="num">{formatInt(agent.activeTasks)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
