import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import type { AppClient } from '../client.ts';
import { AgentsTable, OperatorAgentFragment, type OperatorAgent } from '../components/AgentsTable.tsx';
import { EventFeed } from '../components/EventFeed.tsx';
import { RegisterAgentForm, type NewAgent } from '../components/RegisterAgentForm.tsx';
import { TaskList } from '../components/TaskList.tsx';
import { Card } from '../components/ui.tsx';
import { issuesToFieldErrors, requestErrorMessage, type FieldErrors } from '../errors.ts';
import { graphql } from '../graphql.ts';
import { useOnReconnect, useThrottledCallback } from '../hooks.ts';
import { useTaskList, ViewerTaskEventsSubscription, ViewerTasksQuery } from '../task-list.ts';
import { useLiveAccount } from '../wallet.ts';
import { TaskDetails } from './TaskDetails.tsx';
import { WalletSection } from './WalletSection.tsx';

const OperatorAgentsQuery = graphql(
  `
    query OperatorAgents {
      me { id agents { ...OperatorAgent } }
    }
  `,
  [OperatorAgentFragment],
);

const RegisterAgentMutation = graphql(
  `
    mutation RegisterAgent($input: RegisterAgentInput!) {
      registerAgent(input: $input) {
        __typename
        ... on Agent { ...OperatorAgent }
        ... on ValidationError { message issues { path message } }
        ... on ConflictError { message }
      }
    }
  `,
  [OperatorAgentFragment],
);

const UpdateAgentMutation = graphql(`
  mutation UpdateAgentStatus($input: UpdateAgentInput!) {
    updateAgent(input: $input) {
      __typename
      ... on Agent { id status }
      ... on Error { message }
    }
  }
`);

/** The wallet selector's value for the operator's own account (agent ids never look like this). */
const OWN = 'own-account';

const AGENT_FIELDS = ['name', 'skills', 'model', 'mode', 'askPerUnit', 'maxConcurrency', 'systemPrompt'] as const;

export function OperatorPage({ app, epoch }: { app: AppClient; epoch: number }) {
  const [agentsResult, refetchAgents] = useQuery({ query: OperatorAgentsQuery, requestPolicy: 'cache-and-network' });
  const [openId, setOpenId] = useState<string | null>(null);

  // Earnings, success rates and active counts move with task events: refetch the agents, throttled.
  const refreshAgents = useThrottledCallback(() => refetchAgents({ requestPolicy: 'network-only' }), 1000);
  const list = useTaskList(app.client, ViewerTasksQuery, ViewerTaskEventsSubscription, refreshAgents);
  const { feed } = list;
  useOnReconnect(epoch, () => {
    refetchAgents({ requestPolicy: 'network-only' });
    list.refetch();
  });
  // Money moved for us (an agent of ours was paid, or a credit): balances follow at once.
  const live = useLiveAccount();
  useEffect(() => {
    if (live.version > 1) refreshAgents();
  }, [live.version, refreshAgents]);

  const [errors, setErrors] = useState<FieldErrors>({});
  const [registerState, registerAgent] = useMutation(RegisterAgentMutation);
  const onRegister = async (agent: NewAgent): Promise<boolean> => {
    setErrors({});
    const local: FieldErrors = {};
    if (agent.askPerUnit != null && (!Number.isSafeInteger(agent.askPerUnit) || agent.askPerUnit < 0)) local['askPerUnit'] = 'Whole sats, 0 or more.';
    if (agent.maxConcurrency != null && (!Number.isSafeInteger(agent.maxConcurrency) || agent.maxConcurrency < 1)) local['maxConcurrency'] = 'A whole number, at least 1.';
    if (Object.keys(local).length) {
      setErrors(local);
      return false;
    }
    const result = await registerAgent({ input: agent });
    const payload = result.data?.registerAgent;
    if (result.error || !payload) {
      setErrors({ form: result.error ? requestErrorMessage(result.error) : 'No answer from the server.' });
      return false;
    }
    switch (payload.__typename) {
      case 'Agent':
        refetchAgents({ requestPolicy: 'network-only' });
        return true;
      case 'ValidationError':
        setErrors(issuesToFieldErrors(payload.issues, AGENT_FIELDS));
        return false;
      case 'ConflictError':
        setErrors({ name: payload.message });
        return false;
    }
  };

  const [toggleState, updateAgent] = useMutation(UpdateAgentMutation);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [toggleError, setToggleError] = useState<string | null>(null);
  const onToggle = async (agent: OperatorAgent) => {
    setBusyId(agent.id);
    setToggleError(null);
    const result = await updateAgent({ input: { id: agent.id, status: agent.status === 'PAUSED' ? 'ONLINE' : 'PAUSED' } });
    const payload = result.data?.updateAgent;
    if (result.error) setToggleError(requestErrorMessage(result.error));
    else if (payload && payload.__typename !== 'Agent') setToggleError(payload.message);
    setBusyId(null);
    refetchAgents({ requestPolicy: 'network-only' });
  };

  const agents = agentsResult.data?.me?.agents ?? [];
  // Whose wallet history is shown: one of our agents (the first by default), or our own account.
  const [walletOf, setWalletOf] = useState<string | null>(null);
  const walletChoice = walletOf ?? agents[0]?.id ?? OWN;
  const walletOwner = walletChoice === OWN ? (agentsResult.data?.me?.id ?? null) : walletChoice;
  return (
    <div className="page workspace" data-testid="operator-workspace">
      <Card title="Your agents" testId="operator-agents">
        {agentsResult.error && !agentsResult.data && <p className="form-error">{requestErrorMessage(agentsResult.error)}</p>}
        {toggleError && <p className="form-error" role="alert">{toggleError}</p>}
        <AgentsTable agents={agents} busyId={toggleState.fetching ? busyId : null} onToggle={(a) => void onToggle(a)} />
      </Card>
      <div className="grid-2 grid-wide-right">
        <Card title="Live activity" testId="activity-card">
          <EventFeed events={feed} onOpen={setOpenId} emptyText="Tasks assigned to your agents appear here as they happen." />
        </Card>
        <Card title="Register an agent">
          <RegisterAgentForm busy={registerState.fetching} errors={errors} onSubmit={onRegister} />
        </Card>
      </div>
      <Card title="Assigned tasks" testId="operator-tasks">
        <p className="muted small">Open a task assigned to an external agent to submit its result.</p>
        <TaskList list={list} onOpen={setOpenId} emptyText="No tasks assigned to your agents yet." />
      </Card>
      <WalletSection
        app={app}
        ownerId={walletOwner}
        refreshKey={live.version}
        title="Wallet history"
        emptyText="No money has moved in this wallet yet. Payouts appear here as your agents are paid."
        onOpenTask={setOpenId}
        actions={
          <label className="inline-label">
            Wallet{' '}
            <select value={walletChoice} onChange={(e) => setWalletOf(e.target.value)} data-testid="wallet-select">
              {agents.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
              <option value={OWN}>Your own account</option>
            </select>
          </label>
        }
      />
      {openId && <TaskDetails id={openId} role="AGENT" onClose={() => setOpenId(null)} />}
    </div>
  );
}
