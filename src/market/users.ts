import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { decoyHash, hashPassword, verifyPassword } from '../auth/passwords.ts';
import { ConflictError, InvalidCredentialsError, NotFoundError, ValidationError } from './errors.ts';
import { newId } from './ids.ts';
import { Accounts, openAccount, transfer } from './ledger.ts';
import { type Role, type User, toUser } from './model.ts';
import { type Store, transact } from './store.ts';
import { containsText } from './search.ts';

export interface SignUp {
  email: string;
  password: string;
  role: Role;
}

export async function signUp(store: Store, input: SignUp): Promise<User> {
  // Hash before the transaction: scrypt takes tens of milliseconds and must not hold the write lock.
  const passwordHash = await hashPassword(input.password);
  return transact(store, async (tx) => {
    const taken = await tx.db.selectFrom('users').select('id').where('email', '=', input.email).executeTakeFirst();
    if (taken) throw new ConflictError('An account with this email already exists');
    const id = newId(tx.now);
    const row = { id, email: input.email, password_hash: passwordHash, role: input.role, created_at: tx.now };
    await tx.db.insertInto('users').values(row).execute();
    await openAccount(tx, Accounts.user(id), 'user');
    return toUser(row);
  });
}

export async function logIn(store: Store, email: string, password: string): Promise<User> {
  const row = await store.db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
  const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
  if (!row || !ok) throw new InvalidCredentialsError();
  return toUser(row);
}

/**
 * The admin account named by ADMIN_EMAIL / ADMIN_PASSWORD: created, or given that password and role.
 * Instances starting together each run this: the insert is `ON CONFLICT (email) DO NOTHING` (on
 * PostgreSQL it waits for whichever instance inserted first), and only the one that inserted opens the
 * account; the others update the row it made. One admin, whoever wins.
 */
export async function ensureAdmin(store: Store, email: string, password: string): Promise<User> {
  const normalized = email.trim().toLowerCase();
  const passwordHash = await hashPassword(password);
  return transact(store, async (tx) => {
    const row = { id: newId(tx.now), email: normalized, password_hash: passwordHash, role: 'ADMIN' as const, created_at: tx.now };
    const inserted = await tx.db.insertInto('users').values(row).onConflict((oc) => oc.column('email').doNothing()).returning('id').executeTakeFirst();
    if (inserted) {
      await openAccount(tx, Accounts.user(row.id), 'user');
      return toUser(row);
    }
    const existing = await tx.db
      .updateTable('users')
      .set({ password_hash: passwordHash, role: 'ADMIN' })
      .where('email', '=', normalized)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUser(existing);
  });
}

export interface Credit {
  userId: string;
  amount: number;
  reference: string;
}

/**
 * Add funds from the outside world. The reference makes it idempotent: the same reference again changes
 * nothing; the same reference with another user or amount is refused rather than silently ignored.
 */
export async function creditAccount(store: Store, input: Credit): Promise<User> {
  return transact(store, async (tx) => {
    const row = await tx.db.selectFrom('users').selectAll().where('id', '=', input.userId).executeTakeFirst();
    if (!row) throw new NotFoundError('No user with this id');
    const id = `credit:${input.reference}`;
    const applied = await transfer(tx, { id, from: Accounts.world, to: Accounts.user(row.id), amount: input.amount, kind: 'credit' });
    if (!applied) {
      const earlier = await tx.db.selectFrom('transfers').select(['credit_account', 'amount']).where('id', '=', id).executeTakeFirstOrThrow();
      if (earlier.credit_account !== Accounts.user(row.id) || Number(earlier.amount) !== input.amount) {
        throw ValidationError.of(['input', 'reference'], 'this reference was already used for a different credit');
      }
    }
    return toUser(row);
  });
}

export async function usersByIds(store: Store, ids: readonly string[]): Promise<User[]> {
  if (ids.length === 0) return [];
  const rows = await store.db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
  return rows.map(toUser);
}

export interface UserFilter {
  /** Part of the email, ignoring case. */
  emailContains?: string | null;
  role?: Role | null;
}

function matchingUsers(filter: UserFilter) {
  return (eb: ExpressionBuilder<Database, 'users'>) =>
    eb.and([...(filter.emailContains ? [containsText('email', filter.emailContains)] : []), ...(filter.role ? [eb('role', '=', filter.role)] : [])]);
}

/** Newest first (ids sort by creation time), key-set paged on the id like the task lists. */
export async function pageOfUsers(db: Kysely<Database>, filter: UserFilter, page: { after?: string | null; before?: string | null; limit: number; oldestFirst?: boolean }): Promise<User[]> {
  let query = db.selectFrom('users').selectAll().where(matchingUsers(filter));
  if (page.after) query = query.where('id', '<', page.after);
  if (page.before) query = query.where('id', '>', page.before);
  const rows = await query.orderBy('id', page.oldestFirst ? 'asc' : 'desc').limit(page.limit).execute();
  return rows.map(toUser);
}

export async function countUsers(db: Kysely<Database>, filter: UserFilter): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where(matchingUsers(filter)).executeTakeFirstOrThrow();
  return Number(row.n);
}
