/**
 * Complexity, price and the choice of agent: pure functions, so the rules can be read and tested alone.
 */
import type { Agent } from './model.ts';
import { successRate } from './model.ts';

export const MIN_COMPLEXITY = 1;
export const MAX_COMPLEXITY = 10;
export const MIN_REPUTATION = 0.5;
export const MAX_REPUTATION = 3.0;
export const DEFAULT_ASK_PER_UNIT = 100_000;

const HARD_WORDS =
  /\b(analy[sz]e|architect\w*|design|optimi[sz]e|prove|proof|research|debug|refactor|implement|algorithm|distributed|concurren\w*|security|benchmark|migrat\w*|compare|evaluate|derive)\b/gi;

/**
 * Estimate complexity from the prompt when the buyer gives none: one point to start, one more per 400
 * characters (up to +4), one per distinct demanding word such as "design", "optimise", "prove" or
 * "debug" (up to +4), and one if the prompt carries code. Clamped to 1..10.
 */
export function estimateComplexity(prompt: string): number {
  const lengthPoints = Math.min(4, Math.floor(prompt.length / 400));
  const words = new Set((prompt.match(HARD_WORDS) ?? []).map((w) => w.toLowerCase()));
  const wordPoints = Math.min(4, words.size);
  const codePoints = /```|\bfunction\b|=>|\bclass\b|;\s*$/m.test(prompt) ? 1 : 0;
  return clamp(1 + lengthPoints + wordPoints + codePoints, MIN_COMPLEXITY, MAX_COMPLEXITY);
}

/** Price = askPerUnit x complexity x reputation, rounded to whole satoshis. */
export function priceFor(agent: Pick<Agent, 'askPerUnit' | 'reputation'>, complexity: number): number {
  return Math.round(agent.askPerUnit * complexity * agent.reputation);
}

export interface MatchRequest {
  complexity: number;
  skills: readonly string[];
  maxPrice?: number;
  /** An agent that let this task's lease run out: chosen again only when nobody else fits. */
  avoidAgentId?: string | null;
}

export interface Match {
  agent: Agent;
  price: number;
}

export function isEligible(agent: Agent, request: MatchRequest): boolean {
  if (agent.status !== 'ONLINE' || agent.activeTasks >= agent.maxConcurrency) return false;
  const skills = new Set(agent.skills.map((s) => s.toLowerCase()));
  if (!request.skills.every((s) => skills.has(s.toLowerCase()))) return false;
  return request.maxPrice === undefined || priceFor(agent, request.complexity) <= request.maxPrice;
}

/**
 * Pick the agent for a task. Each eligible agent scores
 *
 *   w       = (complexity - 1) / 9                       0 for trivial work, 1 for the hardest
 *   quality = 0.5 x (reputation - 0.5) / 2.5 + 0.5 x smoothed success rate
 *   value   = cheapest eligible price / this agent's price
 *   score   = w x quality + (1 - w) x value
 *
 * so reputation and track record weigh more as complexity rises and price more as it falls. The success
 * rate is smoothed ((completed + 1) / (outcomes + 2)) so a new agent is neither perfect nor hopeless.
 * Ties go to the less loaded agent, then the older one.
 */
export function selectAgent(agents: readonly Agent[], request: MatchRequest): Match | null {
  let eligible = agents.filter((a) => isEligible(a, request));
  if (request.avoidAgentId && eligible.some((a) => a.id !== request.avoidAgentId)) {
    eligible = eligible.filter((a) => a.id !== request.avoidAgentId);
  }
  if (eligible.length === 0) return null;
  const priced = eligible.map((agent) => ({ agent, price: priceFor(agent, request.complexity) }));
  const cheapest = Math.min(...priced.map((p) => p.price));
  const w = (request.complexity - MIN_COMPLEXITY) / (MAX_COMPLEXITY - MIN_COMPLEXITY);
  let best: { match: Match; score: number; load: number } | null = null;
  for (const { agent, price } of priced) {
    const score = w * quality(agent) + (1 - w) * (price === 0 ? 1 : cheapest / price);
    const load = agent.activeTasks / agent.maxConcurrency;
    const better =
      !best ||
      score > best.score + 1e-9 ||
      (Math.abs(score - best.score) <= 1e-9 && (load < best.load || (load === best.load && agent.createdAt < best.match.agent.createdAt)));
    if (better) best = { match: { agent, price }, score, load };
  }
  return best?.match ?? null;
}

function quality(agent: Agent): number {
  const smoothed = (agent.tasksCompleted + 1) / (agent.tasksCompleted + agent.tasksFailed + 2);
  return 0.5 * ((agent.reputation - MIN_REPUTATION) / (MAX_REPUTATION - MIN_REPUTATION)) + 0.5 * smoothed;
}

/** Reputation moves with every outcome that was the agent's doing; trust is lost faster than earned. */
export const REPUTATION_GAIN = 0.05;
export const REPUTATION_LOSS = 0.1;

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
