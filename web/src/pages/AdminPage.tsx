import { useCallback, useRef, useState } from 'react';
import { useMutation } from 'urql';
import type { AppClient } from '../client.ts';
import { CreditForm } from '../components/CreditForm.tsx';
import { EventFeed, FeedEventFragment } from '../components/EventFeed.tsx';
import { TaskList } from '../components/TaskList.tsx';
import { TaskRowFragment } from '../components/TaskTable.tsx';
import { UserList } from '../components/UserList.tsx';
import { Card } from '../components/ui.tsx';
import { issuesToFieldErrors, requestErrorMessage, type FieldErrors } from '../errors.ts';
import { formatSats, uuid } from '../format.ts';
import { graphql } from '../graphql.ts';
import { useDebouncedValue, useOnReconnect } from '../hooks.ts';
import { useTaskList } from '../task-list.ts';
import { DisputesSection } from './DisputesSection.tsx';
import { TaskDetails } from './TaskDetails.tsx';
import { WalletSection } from './WalletSection.tsx';

const AdminTasksQuery = graphql(
  `
    query AdminTasks($first: Int!, $after: String, $status: TaskStatus, $search: String) {
      eventSequence
      tasks(first: $first, after: $after, status: $status, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...TaskRow buyer { id email } events { sequence } } }
      }
    }
  `,
  [TaskRowFragment],
);

const CreditAccountMutation = graphql(`
  mutation CreditAccount($input: CreditAccountInput!) {
    creditAccount(input: $input) {
      __typename
      ... on User { id email balance }
      ... on ValidationError { message issues { path message } }
      ... on NotFoundError { message }
    }
  }
`);

const AdminEventsSubscription = graphql(
  `
    subscription AdminEvents($afterSequence: Int) {
      taskEvents(afterSequence: $afterSequence) { ...FeedEvent kind task { ...TaskRow buyer { id email } } }
    }
  `,
  [FeedEventFragment, TaskRowFragment],
);

export function AdminPage({ app, epoch }: { app: AppClient; epoch: number }) {
  const [openId, setOpenId] = useState<string | null>(null);

  // Counts disputes opened or resolved anywhere: the open disputes are read again at each.
  const [disputeChanges, setDisputeChanges] = useState(0);
  const onEvent = useCallback((event: { kind: string }) => {
    if (event.kind === 'DISPUTE_OPENED' || event.kind === 'DISPUTE_RESOLVED') setDisputeChanges((n) => n + 1);
  }, []);
  const list = useTaskList(app.client, AdminTasksQuery, AdminEventsSubscription, onEvent);
  const { feed } = list;
  useOnReconnect(epoch, () => {
    list.refetch();
    setDisputeChanges((n) => n + 1);
  });

  // One reference per intended credit: a double click or a retry credits once.
  const pending = useRef<{ fingerprint: string; reference: string } | null>(null);
  const [userId, setUserId] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [done, setDone] = useState<string | null>(null);
  const [creditState, creditAccount] = useMutation(CreditAccountMutation);
  // The wallet shown below: the user being credited, once their id has stopped changing (typing, pasting).
  const walletUser = useDebouncedValue(userId.trim(), 400) || null;
  const onCredit = async ({ userId: id, amount }: { userId: string; amount: number }): Promise<boolean> => {
    setErrors({});
    setDone(null);
    // Every problem at once, as the server reports them.
    const local: FieldErrors = {
      ...(!id && { userId: 'Which user? Pick “Credit” next to them in the list.' }),
      ...(!(Number.isSafeInteger(amount) && amount > 0) && { amount: 'A whole number of sats, at least 1.' }),
    };
    if (Object.keys(local).length > 0) {
      setErrors(local);
      return false;
    }
    const fingerprint = `${id}:${amount}`;
    if (pending.current?.fingerprint !== fingerprint) pending.current = { fingerprint, reference: uuid() };
    const result = await creditAccount({ input: { userId: id, amount, reference: pending.current.reference } });
    const payload = result.data?.creditAccount;
    if (result.error || !payload) {
      setErrors({ form: result.error ? requestErrorMessage(result.error) : 'No answer from the server.' });
      return false;
    }
    switch (payload.__typename) {
      case 'User':
        pending.current = null;
        setDone(`Credited ${formatSats(amount)} to ${payload.email}; balance now ${formatSats(payload.balance)}.`);
        return true;
      case 'ValidationError':
        setErrors(issuesToFieldErrors(payload.issues, ['userId', 'amount', 'reference']));
        return false;
      case 'NotFoundError':
        setErrors({ userId: payload.message });
        return false;
    }
  };

  return (
    <div className="page workspace" data-testid="admin-workspace">
      <div className="grid-2 grid-wide-right">
        <Card title="Users" testId="admin-users">
          <UserList
            refreshKey={done ?? ''}
            onPick={(user) => {
              setUserId(user.id);
              setDone(null);
              setErrors({});
              document.querySelector<HTMLInputElement>('[data-testid="credit-form"] input[name="amount"]')?.focus();
            }}
          />
        </Card>
        <Card title="Credit a user" testId="admin-credit">
          <CreditForm userId={userId} onUserIdChange={setUserId} busy={creditState.fetching} errors={errors} done={done} onSubmit={onCredit} />
        </Card>
        <Card title="Live activity" testId="activity-card">
          <EventFeed events={feed} onOpen={setOpenId} emptyText="Every task event appears here as it happens." />
        </Card>
      </div>
      <DisputesSection refreshKey={disputeChanges} onOpenTask={setOpenId} />
      <Card title="All tasks" testId="admin-tasks">
        <TaskList
          list={list}
          onOpen={setOpenId}
          emptyText="No tasks yet."
          extra={{
            header: 'Buyer',
            cell: (task) => (
              <span className="buyer-cell">
                {task.buyer.email}{' '}
                <button type="button" className="link small" onClick={() => setUserId(task.buyer.id)}>
                  Credit<span className="sr-only"> {task.buyer.email}</span>
                </button>
              </span>
            ),
          }}
        />
      </Card>
      <WalletSection
        app={app}
        ownerId={walletUser}
        refreshKey={`${walletUser}:${done ?? ''}`}
        title="Wallet of the chosen user"
        emptyText={walletUser ? 'No money has moved in this wallet yet.' : 'Pick a user (“Credit” next to a buyer) to see their wallet history.'}
        onOpenTask={setOpenId}
      />
      {openId && <TaskDetails id={openId} role="ADMIN" onClose={() => setOpenId(null)} />}
    </div>
  );
}
