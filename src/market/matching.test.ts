import { describe, expect, it } from 'vitest';
import { DEFAULT_ASK_PER_UNIT, estimateComplexity, isEligible, MAX_COMPLEXITY, MIN_COMPLEXITY, priceFor, selectAgent } from './matching.ts';
import type { Agent } from './model.ts';

let created = 0;

function agent(overrides: Partial<Agent> = {}): Agent {
  created++;
  return {
    id: `agent-${created}`,
    operatorId: null,
    name: `agent-${created}`,
    skills: [],
    model: 'gpt-test',
    mode: 'MANAGED',
    status: 'ONLINE',
    systemPrompt: null,
    askPerUnit: DEFAULT_ASK_PER_UNIT,
    maxConcurrency: 4,
    reputation: 1,
    tasksCompleted: 0,
    tasksFailed: 0,
    activeTasks: 0,
    earnings: 0,
    createdAt: new Date(1_700_000_000_000 + created),
    ...overrides,
  };
}

/** The original system's three agents, as a fresh database seeds them. */
const originals = () => [
  agent({ name: 'agent-1', reputation: 2.0, tasksCompleted: 19, tasksFailed: 1 }),
  agent({ name: 'agent-2', reputation: 1.8, tasksCompleted: 9, tasksFailed: 1 }),
  agent({ name: 'agent-3', reputation: 1.2, tasksCompleted: 7, tasksFailed: 3 }),
];

describe('priceFor', () => {
  it('is ask x complexity x reputation: complexity 1 with a 2.00x agent at the default ask costs 200,000 sat', () => {
    expect(DEFAULT_ASK_PER_UNIT).toBe(100_000);
    expect(priceFor({ askPerUnit: DEFAULT_ASK_PER_UNIT, reputation: 2 }, 1)).toBe(200_000);
    expect(priceFor({ askPerUnit: DEFAULT_ASK_PER_UNIT, reputation: 1.8 }, 5)).toBe(900_000);
    expect(priceFor({ askPerUnit: DEFAULT_ASK_PER_UNIT, reputation: 1.2 }, 3)).toBe(360_000);
    expect(priceFor({ askPerUnit: 1_000, reputation: 1 }, 10)).toBe(10_000);
  });

  it('rounds to whole satoshis', () => {
    expect(priceFor({ askPerUnit: 3, reputation: 1.25 }, 1)).toBe(4); // 3.75
    expect(priceFor({ askPerUnit: 3, reputation: 1.15 }, 1)).toBe(3); // 3.45
    for (const reputation of [0.5, 1.05, 1.15, 2.35, 2.95]) {
      for (let complexity = MIN_COMPLEXITY; complexity <= MAX_COMPLEXITY; complexity++) {
        expect(Number.isInteger(priceFor({ askPerUnit: 99_999, reputation }, complexity))).toBe(true);
      }
    }
  });
});

describe('estimateComplexity', () => {
  it('gives 1 for an empty or trivial prompt', () => {
    expect(estimateComplexity('')).toBe(1);
    expect(estimateComplexity('Say hello')).toBe(1);
  });

  it('adds a point per 400 characters, at most 4', () => {
    expect(estimateComplexity('a'.repeat(399))).toBe(1);
    expect(estimateComplexity('a'.repeat(400))).toBe(2);
    expect(estimateComplexity('a'.repeat(1_600))).toBe(5);
    expect(estimateComplexity('a'.repeat(20_000))).toBe(5);
  });

  it('adds a point per distinct demanding word, case-insensitive, at most 4', () => {
    expect(estimateComplexity('Design it')).toBe(2);
    expect(estimateComplexity('design DESIGN Design')).toBe(2);
    expect(estimateComplexity('design, optimize, prove and debug')).toBe(5);
    expect(estimateComplexity('design optimize prove debug research refactor benchmark')).toBe(5);
  });

  it('adds a point for code', () => {
    expect(estimateComplexity('What does this do? ```x```')).toBe(2);
    expect(estimateComplexity('const f = (x) => x')).toBe(2);
  });

  it('never leaves 1..10', () => {
    const everything = `${'design optimize prove debug research '.repeat(100)}\n\`\`\`function f() {}\`\`\``;
    expect(estimateComplexity(everything)).toBe(MAX_COMPLEXITY);
    for (const prompt of ['', 'x', 'a'.repeat(100_000), everything, '```', 'analyse '.repeat(5_000)]) {
      const level = estimateComplexity(prompt);
      expect(level).toBeGreaterThanOrEqual(MIN_COMPLEXITY);
      expect(level).toBeLessThanOrEqual(MAX_COMPLEXITY);
      expect(Number.isInteger(level)).toBe(true);
    }
  });
});

describe('selectAgent: price against reputation', () => {
  it('prefers the cheap agent for trivial work', () => {
    const [reputable, , cheap] = originals();
    const match = selectAgent([reputable!, cheap!], { complexity: 1, skills: [] });
    expect(match?.agent.name).toBe(cheap!.name);
    expect(match?.price).toBe(120_000);
  });

  it('prefers the reputable agent for the hardest work', () => {
    const [reputable, , cheap] = originals();
    const match = selectAgent([cheap!, reputable!], { complexity: 10, skills: [] });
    expect(match?.agent.name).toBe(reputable!.name);
    expect(match?.price).toBe(2_000_000);
  });

  it('with the original three agents: agent-3 at complexity 1, agent-1 at complexity 10', () => {
    expect(selectAgent(originals(), { complexity: 1, skills: [] })?.agent.name).toBe('agent-3');
    expect(selectAgent(originals(), { complexity: 10, skills: [] })?.agent.name).toBe('agent-1');
  });

  it('returns the price the chosen agent charges', () => {
    const only = agent({ reputation: 2 });
    expect(selectAgent([only], { complexity: 1, skills: [] })).toEqual({ agent: only, price: 200_000 });
  });
});

describe('selectAgent: eligibility', () => {
  it('needs every skill of the task, case-insensitively', () => {
    const writer = agent({ skills: ['writing'] });
    const coder = agent({ skills: ['Python', 'sql'] });
    expect(selectAgent([writer, coder], { complexity: 1, skills: ['python'] })?.agent).toBe(coder);
    expect(selectAgent([writer, coder], { complexity: 1, skills: ['python', 'SQL'] })?.agent).toBe(coder);
    expect(selectAgent([writer, coder], { complexity: 1, skills: ['python', 'writing'] })).toBeNull();
    expect(isEligible(writer, { complexity: 1, skills: [] })).toBe(true);
  });

  it('keeps the price within maxPrice (equal is fine)', () => {
    const pricey = agent({ reputation: 2 }); // 200,000 at complexity 1
    const cheap = agent({ reputation: 1 }); // 100,000
    expect(isEligible(pricey, { complexity: 1, skills: [], maxPrice: 200_000 })).toBe(true);
    expect(isEligible(pricey, { complexity: 1, skills: [], maxPrice: 199_999 })).toBe(false);
    expect(selectAgent([pricey, cheap], { complexity: 10, skills: [], maxPrice: 1_000_000 })?.agent).toBe(cheap);
    expect(selectAgent([pricey, cheap], { complexity: 1, skills: [], maxPrice: 99_999 })).toBeNull();
  });

  it('skips agents at their maxConcurrency', () => {
    const full = agent({ reputation: 3, maxConcurrency: 2, activeTasks: 2 });
    const free = agent({ reputation: 0.5, maxConcurrency: 2, activeTasks: 1 });
    expect(isEligible(full, { complexity: 10, skills: [] })).toBe(false);
    expect(selectAgent([full, free], { complexity: 10, skills: [] })?.agent).toBe(free);
    expect(selectAgent([full], { complexity: 10, skills: [] })).toBeNull();
  });

  it('skips agents that are not ONLINE', () => {
    const paused = agent({ status: 'PAUSED' });
    const offline = agent({ status: 'OFFLINE' });
    expect(selectAgent([paused, offline], { complexity: 5, skills: [] })).toBeNull();
    const online = agent();
    expect(selectAgent([paused, online, offline], { complexity: 5, skills: [] })?.agent).toBe(online);
  });

  it('gives null with no agents at all', () => {
    expect(selectAgent([], { complexity: 1, skills: [] })).toBeNull();
  });
});

describe('selectAgent: ties and avoidance', () => {
  it('gives a tie to the less loaded agent, whatever the order', () => {
    const busy = agent({ activeTasks: 3, maxConcurrency: 4 });
    const idle = agent({ activeTasks: 1, maxConcurrency: 4 });
    for (const complexity of [1, 5, 10]) {
      expect(selectAgent([busy, idle], { complexity, skills: [] })?.agent).toBe(idle);
      expect(selectAgent([idle, busy], { complexity, skills: [] })?.agent).toBe(idle);
    }
  });

  it('measures load against capacity', () => {
    const small = agent({ activeTasks: 1, maxConcurrency: 2 }); // half full
    const large = agent({ activeTasks: 2, maxConcurrency: 8 }); // a quarter full
    expect(selectAgent([small, large], { complexity: 3, skills: [] })?.agent).toBe(large);
  });

  it('gives an exact tie at equal load to the older agent', () => {
    const older = agent({ createdAt: new Date(1_000) });
    const newer = agent({ createdAt: new Date(2_000) });
    expect(selectAgent([newer, older], { complexity: 4, skills: [] })?.agent).toBe(older);
  });

  it('avoids avoidAgentId while anybody else fits', () => {
    const best = agent({ reputation: 3, tasksCompleted: 100 });
    const other = agent({ reputation: 0.5 });
    expect(selectAgent([best, other], { complexity: 10, skills: [] })?.agent).toBe(best);
    expect(selectAgent([best, other], { complexity: 10, skills: [], avoidAgentId: best.id })?.agent).toBe(other);
  });

  it('still picks avoidAgentId when it is the only one that fits', () => {
    const only = agent({ skills: ['rare'] });
    const unfit = agent({ skills: [] });
    expect(selectAgent([only, unfit], { complexity: 2, skills: ['rare'], avoidAgentId: only.id })?.agent).toBe(only);
  });
});
