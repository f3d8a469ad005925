import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { countAgents, pageOfAgents, registerAgent, updateAgent } from '../market/agents.ts';
import { AccessError, ConflictError, NotFoundError, ValidationError } from '../market/errors.ts';
import { registerAgentInput, updateAgentInput } from '../market/inputs.ts';
import { Accounts } from '../market/ledger.ts';
import { type Agent, successRate } from '../market/model.ts';
import { mayManageAgent } from '../market/visibility.ts';
import { builder, pageCost } from './builder.ts';
import { AgentModeEnum, AgentOrderEnum, AgentStatusEnum } from './enums.ts';
import { localId } from './ids.ts';

export const AgentRef = builder.objectRef<Agent>('Agent');

builder.node(AgentRef, {
  id: { resolve: (agent) => agent.id },
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'askPerUnit' in value,
  fields: (t) => ({
    name: t.exposeString('name'),
    skills: t.exposeStringList('skills'),
    model: t.exposeString('model'),
    mode: t.field({ type: AgentModeEnum, resolve: (a) => a.mode }),
    status: t.field({ type: AgentStatusEnum, resolve: (a) => a.status }),
    reputation: t.float({
      description: 'Price multiplier earned by track record, e.g. 2.0 shown as 2.00x.',
      // Stored as a float that outcomes nudge by 0.05: 1.45 comes out as 1.4500000000000002. Prices use the
      // stored value; clients get it to the two decimals it is shown with.
      resolve: (a) => Math.round(a.reputation * 100) / 100,
    }),
    successRate: t.float({ description: 'Completed / (completed + failed); 0 before any outcome.', resolve: (a) => successRate(a) }),
    tasksCompleted: t.exposeInt('tasksCompleted'),
    tasksFailed: t.exposeInt('tasksFailed'),
    earnings: t.field({ type: 'Sats', description: 'Everything ever credited to this agent.', resolve: (a) => a.earnings }),
    balance: t.field({ type: 'Sats', description: 'Credited and not yet withdrawn.', resolve: (a, _args, ctx) => ctx.loaders.balance.load(Accounts.agent(a.id)) }),
    askPerUnit: t.field({ type: 'Sats', description: 'Base price per unit of complexity, before the reputation multiplier.', resolve: (a) => a.askPerUnit }),
    maxConcurrency: t.exposeInt('maxConcurrency'),
    activeTasks: t.exposeInt('activeTasks'),
    connected: t.boolean({
      description:
        'since 2026-12. MANAGED: always true. EXTERNAL: whether its operator is listening on agentAssignments (or bidRequests) right now, on any instance. Work is offered only to connected agents.',
      resolve: (a, _args, ctx) => a.mode === 'MANAGED' || ctx.loaders.connected.load(a.id),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
    systemPrompt: t.string({
      nullable: true,
      description: 'The instructions a MANAGED agent gives the model; visible to its operator and admins only.',
      authScopes: (a) => ({ agentOwner: a.operatorId }),
      unauthorizedResolver: () => null,
      resolve: (a) => a.systemPrompt,
    }),
  }),
});

builder.queryField('agent', (t) =>
  t.field({
    type: AgentRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      const agentId = localId(id, 'Agent');
      return agentId ? ctx.loaders.agent.load(agentId) : null;
    },
  }),
);

builder.queryField('agents', (t) =>
  t.connection(
    {
      type: AgentRef,
      complexity: (args) => pageCost(args),
      args: { orderBy: t.arg({ type: AgentOrderEnum, defaultValue: 'REPUTATION', required: false }) },
      resolve: async (_root, args, ctx) => {
        const connection = await resolveOffsetConnection({ args, defaultSize: 20, maxSize: 100 }, async ({ offset, limit }) => {
          const order = args.orderBy ?? 'REPUTATION';
          const agents =
            order === 'REPUTATION' ? await ctx.services.stats.leaderboard(offset, limit) : await pageOfAgents(ctx.services.store.db, order, offset, limit);
          for (const agent of agents) ctx.loaders.agent.prime(agent.id, agent);
          return agents;
        });
        return { ...connection, totalCount: () => countAgents(ctx.services.store.db) };
      },
    },
    { name: 'AgentConnection' },
    { name: 'AgentEdge' },
  ),
);

const RegisterAgentInput = builder.inputType('RegisterAgentInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    skills: t.stringList({ required: false }),
    model: t.string({ required: false, description: "The model a MANAGED agent runs on; defaults to the server's configured model." }),
    mode: t.field({ type: AgentModeEnum, required: false, defaultValue: 'MANAGED' }),
    askPerUnit: t.field({ type: 'Sats', required: false }),
    maxConcurrency: t.int({ required: false }),
    systemPrompt: t.string({ required: false, description: 'Instructions a MANAGED agent gives the model before each task.' }),
  }),
  validate: registerAgentInput,
});

builder.mutationField('registerAgent', (t) =>
  t.field({
    type: AgentRef,
    description: 'Role AGENT.',
    authScopes: { operator: true },
    args: { input: t.arg({ type: RegisterAgentInput, required: true }) },
    errors: { types: [ValidationError, ConflictError], union: { name: 'RegisterAgentResult' } },
    resolve: (_root, { input }, ctx) =>
      registerAgent(ctx.services.store, {
        operatorId: ctx.viewer?.id ?? null,
        name: input.name,
        skills: input.skills ?? [],
        model: input.model ?? ctx.services.config.ai.model,
        mode: input.mode ?? 'MANAGED',
        askPerUnit: input.askPerUnit,
        maxConcurrency: input.maxConcurrency,
        systemPrompt: input.systemPrompt,
      }),
  }),
);

const UpdateAgentInput = builder.inputType('UpdateAgentInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    status: t.field({ type: AgentStatusEnum, required: false }),
    skills: t.stringList({ required: false }),
    askPerUnit: t.field({ type: 'Sats', required: false }),
    maxConcurrency: t.int({ required: false }),
    systemPrompt: t.string({ required: false }),
  }),
  validate: updateAgentInput,
});

builder.mutationField('updateAgent', (t) =>
  t.field({
    type: AgentRef,
    description: "The agent's operator.",
    authScopes: { signedIn: true },
    args: { input: t.arg({ type: UpdateAgentInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateAgentResult' } },
    resolve: async (_root, { input }, ctx) => {
      const agentId = localId(input.id, 'Agent');
      const agent = agentId ? await ctx.loaders.agent.load(agentId) : null;
      if (!agent) throw new NotFoundError('No agent with this id');
      if (!mayManageAgent(ctx.viewer, agent)) throw new AccessError('FORBIDDEN', "Only the agent's operator may change it");
      return updateAgent(ctx.services.store, { ...input, id: agent.id });
    },
  }),
);
