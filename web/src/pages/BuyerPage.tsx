import { useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import type { AppClient } from '../client.ts';
import { CreateTaskForm, type NewTask, type QuoteView, type TaskDraft } from '../components/CreateTaskForm.tsx';
import { EventFeed } from '../components/EventFeed.tsx';
import { TaskList } from '../components/TaskList.tsx';
import { TaskRowFragment } from '../components/TaskTable.tsx';
import { Card } from '../components/ui.tsx';
import { issuesToFieldErrors, requestErrorMessage, type FieldErrors } from '../errors.ts';
import { formatSats, uuid } from '../format.ts';
import { graphql } from '../graphql.ts';
import { useDebouncedValue, useOnReconnect } from '../hooks.ts';
import { useTaskList, ViewerTaskEventsSubscription, ViewerTasksQuery } from '../task-list.ts';
import { useLiveAccount } from '../wallet.ts';
import { TaskDetails } from './TaskDetails.tsx';
import { WalletSection } from './WalletSection.tsx';

const BuyerAccountQuery = graphql(`
  query BuyerAccount {
    me { id email balance escrowed }
  }
`);

const QuoteQuery = graphql(`
  query Quote($input: QuoteInput!) {
    quote(input: $input) { complexity price agent { id name reputation } }
  }
`);

const CreateTaskMutation = graphql(
  `
    mutation CreateTask($input: CreateTaskInput!) {
      createTask(input: $input) {
        __typename
        ... on Task { ...TaskRow }
        ... on ValidationError { message issues { path message } }
        ... on InsufficientFundsError { message required available }
      }
    }
  `,
  [TaskRowFragment],
);

const TASK_FIELDS = ['title', 'prompt', 'skills', 'complexity', 'maxPrice'] as const;

export function BuyerPage({ app, epoch }: { app: AppClient; epoch: number }) {
  const [account, refetchAccount] = useQuery({ query: BuyerAccountQuery, requestPolicy: 'cache-and-network' });
  const [openId, setOpenId] = useState<string | null>(null);
  const list = useTaskList(app.client, ViewerTasksQuery, ViewerTaskEventsSubscription);
  const { feed, upsert } = list;
  useOnReconnect(epoch, () => {
    refetchAccount({ requestPolicy: 'network-only' });
    list.refetch();
  });
  // Balance and escrow as they change: a credit, a task's escrow, its payout and refund (accountUpdated).
  const live = useLiveAccount();

  // Live quote for what is being typed.
  const [draft, setDraft] = useState<TaskDraft>({ prompt: '', skills: [], complexity: null });
  const debounced = useDebouncedValue(draft, 350);
  const quoteInput = { prompt: debounced.prompt, skills: debounced.skills, complexity: debounced.complexity };
  const [quoteResult] = useQuery({ query: QuoteQuery, variables: { input: quoteInput }, pause: debounced.prompt.trim() === '' });
  const quote: QuoteView = {
    fetching: draft.prompt.trim() !== '' && (quoteResult.fetching || draft !== debounced),
    error: quoteResult.error ? requestErrorMessage(quoteResult.error) : null,
    quote: draft.prompt.trim() === '' || debounced.prompt.trim() === '' ? null : (quoteResult.data?.quote ?? null),
  };

  // One idempotency key per intended task: a double click or a retry after a network error re-sends the same
  // key (and the server returns the first task); changing the form makes it a new task with a new key.
  const pending = useRef<{ fingerprint: string; key: string } | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [createState, createTask] = useMutation(CreateTaskMutation);
  const onSubmit = async (task: NewTask): Promise<boolean> => {
    setErrors({});
    // A missing or non-numeric max price cannot travel as Sats; 0 can, and the server refuses it together
    // with every other bad field, so the form shows all its errors at once.
    const priceOk = Number.isSafeInteger(task.maxPrice) && task.maxPrice > 0;
    const sent = priceOk ? task : { ...task, maxPrice: 0 };
    const fingerprint = JSON.stringify(sent);
    if (pending.current?.fingerprint !== fingerprint) pending.current = { fingerprint, key: uuid() };
    const input = { ...sent, idempotencyKey: pending.current.key };
    const result = await createTask({ input });
    const payload = result.data?.createTask;
    if (result.error || !payload) {
      setErrors({ form: result.error ? requestErrorMessage(result.error) : 'No answer from the server.' });
      return false;
    }
    switch (payload.__typename) {
      case 'Task':
        pending.current = null;
        upsert(payload);
        return true;
      case 'ValidationError':
        setErrors({ ...issuesToFieldErrors(payload.issues, TASK_FIELDS), ...(!priceOk && { maxPrice: 'Enter the most you will pay, in whole sats.' }) });
        return false;
      case 'InsufficientFundsError':
        setErrors({
          maxPrice: `${payload.message} Needed in escrow: ${formatSats(payload.required)}; available: ${formatSats(payload.available)}.`,
        });
        return false;
    }
  };

  const me = live.account ?? account.data?.me;
  const accountId = account.data?.me?.id;
  return (
    <div className="page workspace" data-testid="buyer-workspace">
      <div className="grid-2 grid-wide-right">
        <Card title="Your account" testId="account-card">
          <dl className="stats stats-compact">
            <div className="stat">
              <dt>Balance</dt>
              <dd data-testid="buyer-balance">{me ? formatSats(me.balance) : '…'}</dd>
            </div>
            <div className="stat">
              <dt>In escrow</dt>
              <dd data-testid="buyer-escrow">{me ? formatSats(me.escrowed) : '…'}</dd>
            </div>
          </dl>
          {accountId && (
            <p className="muted small">
              Account ID <code data-testid="account-id">{accountId}</code> — give it to an admin to get credit.
            </p>
          )}
        </Card>
        <Card title="Post a task">
          <CreateTaskForm busy={createState.fetching} errors={errors} quote={quote} onDraftChange={setDraft} onSubmit={onSubmit} />
        </Card>
      </div>
      <Card title="Your tasks" testId="buyer-tasks">
        <TaskList list={list} onOpen={setOpenId} emptyText="No tasks yet. Post your first one above." />
      </Card>
      <Card title="Live activity" testId="activity-card">
        <EventFeed events={feed} onOpen={setOpenId} emptyText="Events of your tasks appear here as they happen." />
      </Card>
      <WalletSection
        app={app}
        ownerId={accountId ?? null}
        refreshKey={live.version}
        title="Wallet history"
        emptyText="No money has moved yet. Credits from an admin and your tasks' escrows appear here."
        onOpenTask={setOpenId}
      />
      {openId && <TaskDetails id={openId} role="BUYER" onClose={() => setOpenId(null)} />}
    </div>
  );
}
