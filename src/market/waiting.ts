/**
 * Why a PENDING task waits, in the buyer's words, from the same rules as matching (isEligible): an agent
 * must be ONLINE and connected, have every skill the task needs, ask at most maxPrice and have room.
 * The first rule that no agent passes is the reason.
 */
import { priceFor } from './matching.ts';
import type { Agent, Task } from './model.ts';

const sats = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function waitingReason(task: Pick<Task, 'skills' | 'complexity' | 'maxPrice'>, agents: readonly Agent[], connected: (agent: Agent) => boolean): string {
  const needs = task.skills.map((s) => s.toLowerCase());
  const hasSkills = (agent: Agent) => {
    const own = new Set(agent.skills.map((s) => s.toLowerCase()));
    return needs.every((s) => own.has(s));
  };
  const skilled = agents.filter(hasSkills);
  const available = skilled.filter((a) => a.status === 'ONLINE' && connected(a));
  if (available.length === 0) {
    const what = needs.length === 0 ? 'agent' : `agent with ${skillWords(needs)}`;
    if (skilled.length === 0) return needs.length === 0 ? 'No agent is registered yet.' : `No online agent has ${skillWords(needs)}.`;
    return `No ${what} is online right now (${skilled.length} ${skilled.length === 1 ? 'is' : 'are'} paused, offline or not connected); it starts when one comes back.`;
  }
  const affordable = available.filter((a) => priceFor(a, task.complexity) <= task.maxPrice);
  if (affordable.length === 0) {
    const cheapest = Math.min(...available.map((a) => priceFor(a, task.complexity)));
    return `Every agent that fits asks more than your max price of ${sats.format(task.maxPrice)} sat (the cheapest would charge ${sats.format(cheapest)} sat at complexity ${task.complexity}): raise the max price, or wait for a cheaper agent.`;
  }
  if (affordable.every((a) => a.activeTasks >= a.maxConcurrency)) {
    return affordable.length === 1
      ? 'The one agent that fits is busy; it starts as soon as that agent has room.'
      : `All ${affordable.length} agents that fit are busy; it starts as soon as one has room.`;
  }
  return 'An agent fits: it is being assigned now.';
}

function skillWords(skills: readonly string[]): string {
  const quoted = skills.map((s) => `"${s}"`);
  return quoted.length === 1 ? `the skill ${quoted[0]}` : `all of the skills ${quoted.join(', ')}`;
}

