import { complexity, prompt, skills } from '../market/inputs.ts';
import { estimateComplexity, selectAgent } from '../market/matching.ts';
import type { Agent } from '../market/model.ts';
import { AgentRef } from './agent.ts';
import { builder } from './builder.ts';

interface Quote {
  complexity: number;
  agent: Agent | null;
  price: number | null;
}

const QuoteRef = builder.objectRef<Quote>('Quote').implement({
  fields: (t) => ({
    complexity: t.exposeInt('complexity'),
    agent: t.field({ type: AgentRef, nullable: true, description: 'The agent the marketplace would pick now; null when none fits.', resolve: (q) => q.agent }),
    price: t.field({ type: 'Sats', nullable: true, description: 'What that agent would charge; null when no agent fits.', resolve: (q) => q.price }),
  }),
});

const QuoteInput = builder.inputType('QuoteInput', {
  fields: (t) => ({
    prompt: t.string({ required: true, validate: prompt }),
    skills: t.stringList({ required: false, validate: skills }),
    complexity: t.int({ required: false, validate: complexity }),
  }),
});

builder.queryField('quote', (t) =>
  t.field({
    type: QuoteRef,
    description: 'What a task would cost now, and with whom: the same matching that createTask will use.',
    args: { input: t.arg({ type: QuoteInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const level = input.complexity ?? estimateComplexity(input.prompt);
      const { agents, connected } = await ctx.loaders.market();
      const offered = agents.filter((a) => a.mode === 'MANAGED' || connected.has(a.id));
      const match = selectAgent(offered, { complexity: level, skills: input.skills ?? [] });
      return { complexity: level, agent: match?.agent ?? null, price: match?.price ?? null };
    },
  }),
);
