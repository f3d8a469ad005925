/**
 * Handing PENDING tasks to agents. The matching (who fits, at what price) is read and decided here without
 * locks; each hand-over is then a claim in a transaction of its own (see claim-statement.ts), which takes
 * the task only if it is still PENDING and unheld and the agent still has room. A claim lost to another
 * instance or to a full agent is simply skipped.
 */
import { InvalidStateError } from '../errors.ts';
import { newId } from '../ids.ts';
import { selectAgent } from '../matching.ts';
import { type Agent, type Task, toAgent, toTask } from '../model.ts';
import { connectedAt } from '../presence.ts';
import { type Store, transact } from '../store.ts';
import { TaskStatus } from './state.ts';
import { transition } from './transition.ts';

export interface Assignment {
  task: Task;
  agent: Agent;
}

const PENDING_PAGE = 200;

/**
 * Match PENDING tasks, oldest first, with agents, handing out at most `limit`. Pages through the queue past
 * tasks nobody fits (a rare skill, a low maxPrice) so they cannot starve the rest, and stops as soon as no
 * agent has room. Each task handed out starts at once (PROCESSING): its lease runs from the claim.
 */
export async function assignPending(store: Store, leaseMs: number, limit = 64): Promise<Assignment[]> {
  // Every agent full or offline (a backlog, or all paused): a plain read says so. An agent freed
  // meanwhile kicks another pass when its transaction commits.
  // Only agents that can take work now: an EXTERNAL agent whose operator is not listening is skipped.
  const now = store.now();
  const agents = (await store.db.selectFrom('agents').selectAll().where('status', '=', 'ONLINE').where((eb) => connectedAt(eb, now)).execute()).map(toAgent);
  const hasRoom = () => agents.some((a) => a.activeTasks < a.maxConcurrency);
  if (!hasRoom()) return [];
  const planned: { task: Task; agent: Agent; price: number }[] = [];
  let afterId = '';
  while (planned.length < limit && hasRoom()) {
    const pending = await store.db
      .selectFrom('tasks')
      .selectAll()
      .where('status', '=', TaskStatus.PENDING)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(PENDING_PAGE)
      .execute();
    for (const row of pending) {
      afterId = row.id;
      const task = toTask(row);
      const match = task.agentId
        ? // A rework whose lease ran out: only its own agent, at the agreed price.
          pinned(agents, task)
        : selectAgent(agents, { complexity: task.complexity, skills: task.skills, maxPrice: task.maxPrice, avoidAgentId: row.skip_agent_id });
      if (!match) continue;
      match.agent.activeTasks++;
      planned.push({ task, agent: match.agent, price: match.price });
      if (planned.length >= limit || !hasRoom()) break;
    }
    if (pending.length < PENDING_PAGE) break;
  }
  // Side by side: on SQLite they share a commit (GroupCommit); on PostgreSQL they run on the pool's connections.
  const claimed = await Promise.all(planned.map((plan) => claim(store, plan, leaseMs)));
  return claimed.filter((assignment): assignment is Assignment => assignment !== null);
}

function pinned(agents: readonly Agent[], task: Task): { agent: Agent; price: number } | null {
  const agent = agents.find((a) => a.id === task.agentId && a.activeTasks < a.maxConcurrency);
  return agent ? { agent, price: task.price ?? 0 } : null;
}

async function claim(store: Store, plan: { task: Task; agent: Agent; price: number }, leaseMs: number): Promise<Assignment | null> {
  const { task, agent, price } = plan;
  try {
    return await transact(store, async (tx) => {
      const started = await transition(tx, task, 'claim', {
        message: `Assigned to ${agent.name}`,
        claim: {
          agentId: agent.id,
          price,
          leaseToken: newId(tx.now),
          leaseExpiresAt: tx.now + leaseMs,
          startedMessage: agent.mode === 'EXTERNAL' ? 'Sent to the external agent' : 'Started',
        },
      });
      return { task: started, agent };
    });
  } catch (error) {
    // Taken by another instance meanwhile, or the agent filled up: not ours to run.
    if (error instanceof InvalidStateError) return null;
    throw error;
  }
}
