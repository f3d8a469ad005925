import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * The database as Kysely sees it. Times are epoch milliseconds and money is whole satoshis, both integers
 * (BIGINT on PostgreSQL), so the same rows mean the same thing on every dialect. Lists of skills are JSON
 * text. Rows never leave the market layer: it maps them to domain objects.
 */
export interface Database {
  users: UsersTable;
  accounts: AccountsTable;
  transfers: TransfersTable;
  agents: AgentsTable;
  tasks: TasksTable;
  task_events: TaskEventsTable;
  counters: CountersTable;
  agent_presence: AgentPresenceTable;
  minute_stats: MinuteStatsTable;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  role: 'BUYER' | 'AGENT' | 'ADMIN';
  created_at: number;
}

/** A ledger account. Balances change only together with a row in `transfers`, in one transaction. */
export interface AccountsTable {
  id: string;
  kind: 'user' | 'agent' | 'escrow' | 'platform' | 'world';
  balance: Generated<number>;
  /** How many transfers this account has taken part in: its movements are numbered 1..entries. */
  entries: Generated<number>;
  created_at: number;
}

export interface TransfersTable {
  /** Derived from what caused it (`payout:<task>`, `credit:<reference>`), so it can never happen twice. */
  id: string;
  debit_account: string;
  credit_account: string;
  amount: number;
  kind: 'credit' | 'escrow' | 'payout' | 'fee' | 'refund';
  task_id: string | null;
  created_at: number;
  /** Each side's movement number in its account (1, 2, ...) and that account's balance right after it. */
  debit_entry: number;
  debit_balance_after: number;
  credit_entry: number;
  credit_balance_after: number;
}

export interface AgentsTable {
  id: string;
  operator_id: string | null;
  name: string;
  skills: string;
  model: string;
  mode: 'MANAGED' | 'EXTERNAL';
  status: 'ONLINE' | 'PAUSED' | 'OFFLINE';
  system_prompt: string | null;
  ask_per_unit: number;
  max_concurrency: number;
  reputation: number;
  tasks_completed: Generated<number>;
  tasks_failed: Generated<number>;
  active_tasks: Generated<number>;
  earnings: Generated<number>;
  created_at: number;
}

export interface TasksTable {
  id: string;
  buyer_id: string;
  agent_id: string | null;
  title: string;
  prompt: string;
  skills: string;
  complexity: number;
  max_price: number;
  price: number | null;
  status: 'PENDING' | 'ASSIGNED' | 'PROCESSING' | 'DELIVERED' | 'DISPUTED' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  result: string | null;
  error: string | null;
  attempts: Generated<number>;
  idempotency_key: string | null;
  /** Identifies the current PROCESSING attempt; a result must present it to be accepted. */
  lease_token: string | null;
  lease_expires_at: number | null;
  skip_agent_id: string | null;
  /** The instance that claimed the current attempt (see `claims.ts`). */
  claimed_by: Generated<string | null>;
  /** The platform's cut, set when the agent is paid. */
  fee: Generated<number | null>;
  /** Seconds the buyer has to review a result; 0 pays on delivery. */
  review_window_seconds: Generated<number>;
  /** While DELIVERED: when silence pays the agent (swept like leases). */
  review_deadline: Generated<number | null>;
  /** JSON list of `{ feedback, at }`, oldest first. */
  change_requests: Generated<string>;
  dispute_reason: Generated<string | null>;
  dispute_opened_at: Generated<number | null>;
  dispute_share_bps: Generated<number | null>;
  dispute_note: Generated<string | null>;
  dispute_resolved_at: Generated<number | null>;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface TaskEventsTable {
  /** Strictly increasing across the marketplace, in commit order (see `takeSequences`). */
  sequence: number;
  task_id: string;
  buyer_id: string;
  /** The agent the task was with when this happened: its operator may see the event. */
  agent_id: string | null;
  status: TasksTable['status'];
  /** What happened (TaskEventKind): several kinds share a status (DELIVERED, RETRYING, REQUEUED...). */
  kind: string;
  message: string | null;
  at: number;
}

/** Named integers kept in the same transaction as the change they count (stats, event sequence). */
export interface CountersTable {
  name: string;
  value: number;
}

/** An instance holding an `agentAssignments` listener for an EXTERNAL agent, until `until` unless renewed. */
export interface AgentPresenceTable {
  agent_id: string;
  instance: string;
  until: number;
}

/** Outcomes and payouts per minute (its start, epoch ms), moved in the same transaction as each outcome. */
export interface MinuteStatsTable {
  minute: number;
  completed: Generated<number>;
  failed: Generated<number>;
  paid: Generated<number>;
}

export type UserRow = Selectable<UsersTable>;
export type AgentRow = Selectable<AgentsTable>;
export type TaskRow = Selectable<TasksTable>;
export type TaskEventRow = Selectable<TaskEventsTable>;
export type NewTask = Insertable<TasksTable>;
