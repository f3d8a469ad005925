import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import type { Context } from '../context.ts';
import { ConflictError, InvalidCredentialsError, NotFoundError, ValidationError } from '../market/errors.ts';
import { creditInput, signUpInput } from '../market/inputs.ts';
import { Accounts } from '../market/ledger.ts';
import { text } from '../market/text.ts';
import type { User } from '../market/model.ts';
import { countUsers, creditAccount, logIn, pageOfUsers, signUp, type UserFilter } from '../market/users.ts';
import { searchText } from '../market/search.ts';
import { AgentRef } from './agent.ts';
import { builder } from './builder.ts';
import { RoleEnum } from './enums.ts';
import { localId } from './ids.ts';
import { createLoaders } from './loaders.ts';

export const UserRef = builder.objectRef<User>('User');

/** Another user's email is shown masked: an operator sees who bought a task, not their address. */
function maskEmail(address: string): string {
  const [local = '', domain = ''] = address.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

builder.node(UserRef, {
  id: { resolve: (user) => user.id },
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'email' in value && 'role' in value,
  fields: (t) => ({
    email: t.string({
      authScopes: (user) => ({ account: user.id }),
      unauthorizedResolver: (user) => maskEmail(user.email),
      resolve: (user) => user.email,
    }),
    role: t.field({ type: RoleEnum, resolve: (user) => user.role }),
    balance: t.field({
      type: 'Sats',
      description: "Spendable funds: credits minus escrowed and spent amounts. Shown to the user and admins; 0 to others.",
      authScopes: (user) => ({ account: user.id }),
      unauthorizedResolver: () => 0,
      resolve: (user, _args, ctx) => ctx.loaders.balance.load(Accounts.user(user.id)),
    }),
    escrowed: t.field({
      type: 'Sats',
      description: "Funds held in escrow for this buyer's open tasks. Shown to the user and admins; 0 to others.",
      authScopes: (user) => ({ account: user.id }),
      unauthorizedResolver: () => 0,
      resolve: (user, _args, ctx) => ctx.loaders.escrowed.load(user.id),
    }),
    agents: t.field({
      type: [AgentRef],
      description: 'Agents this user operates (role AGENT).',
      resolve: (user, _args, ctx) => ctx.loaders.agentsOfOperator.load(user.id),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (user) => user.createdAt }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user; null when not signed in.',
    resolve: (_root, _args, ctx) => (ctx.viewer ? ctx.loaders.user.load(ctx.viewer.id) : null),
  }),
);

const AuthPayload = builder.objectRef<{ token: string; expiresAt: Date; user: User }>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'A signed JWT for the Authorization header.' }),
    expiresAt: t.field({ type: 'DateTime', resolve: (p) => p.expiresAt }),
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
  }),
});

const SignUpInput = builder.inputType('SignUpInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 8 characters.' }),
    role: t.field({
      type: RoleEnum,
      required: true,
      description: 'BUYER or AGENT; ADMIN accounts come only from the server\'s configuration.',
    }),
  }),
  validate: signUpInput,
});

const LogInInput = builder.inputType('LogInInput', {
  fields: (t) => ({
    // Bounded and storable only: a wrong address or password is an InvalidCredentialsError, as before.
    email: t.string({ required: true, validate: text().max(1000, 'must be at most 1000 characters') }),
    password: t.string({ required: true, validate: text().max(1000, 'must be at most 1000 characters') }),
  }),
});

builder.mutationField('signUp', (t) =>
  t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    errors: { types: [ValidationError, ConflictError], union: { name: 'SignUpResult' } },
    resolve: async (_root, { input }, ctx) => {
      const user = await signUp(ctx.services.store, { email: input.email, password: input.password, role: input.role });
      // The rest of this response is read as the new user (their own email and balance, unmasked).
      ctx.viewer = { id: user.id, role: user.role };
      return { ...(await ctx.services.tokens.issue(user)), user };
    },
  }),
);

builder.mutationField('logIn', (t) =>
  t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: LogInInput, required: true }) },
    errors: { types: [InvalidCredentialsError], union: { name: 'LogInResult' } },
    resolve: async (_root, { input }, ctx) => {
      const user = await logInLimited(ctx, input.email, () => logIn(ctx.services.store, input.email, input.password));
      ctx.viewer = { id: user.id, role: user.role };
      return { ...(await ctx.services.tokens.issue(user)), user };
    },
  }),
);

/**
 * Guessing passwords is throttled: failed logIns are counted per email and per client address, and once
 * either is used up every logIn for it is RATE_LIMITED (before any password hashing) until the window ends.
 */
async function logInLimited(ctx: Context, email: string, attempt: () => Promise<User>): Promise<User> {
  const limits = ctx.services.rateLimits;
  const who = email.trim().toLowerCase();
  await limits.check('logInPerEmail', who);
  await limits.check('logInPerIp', ctx.clientIp);
  try {
    return await attempt();
  } catch (error) {
    if (error instanceof InvalidCredentialsError) {
      await Promise.all([limits.record('logInPerEmail', who), limits.record('logInPerIp', ctx.clientIp)]);
    }
    throw error;
  }
}

const CreditAccountInput = builder.inputType('CreditAccountInput', {
  fields: (t) => ({
    userId: t.id({ required: true }),
    amount: t.field({ type: 'Sats', required: true }),
    reference: t.string({ required: true, description: 'Unique per credit: the same reference twice credits once.' }),
  }),
  validate: creditInput,
});

builder.mutationField('creditAccount', (t) =>
  t.field({
    type: UserRef,
    description: "Role ADMIN: add funds to a user's balance.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreditAccountInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'CreditAccountResult' } },
    resolve: async (_root, { input }, ctx) => {
      const userId = localId(input.userId, 'User');
      if (!userId) throw ValidationError.of(['input', 'userId'], 'is not a User ID');
      return creditAccount(ctx.services.store, { userId, amount: input.amount, reference: input.reference });
    },
  }),
);

builder.queryField('users', (t) =>
  t.connection(
    {
      type: UserRef,
      description: 'since 2026-12. Role ADMIN: users, newest first; search matches part of the email.',
      authScopes: { admin: true },
      args: { search: t.arg.string({ required: false }), role: t.arg({ type: RoleEnum, required: false }) },
      resolve: async (_root, args, ctx) => {
        const filter: UserFilter = { emailContains: searchText(args.search), role: args.role ?? null };
        const connection = await resolveCursorConnection(
          { args, toCursor: (user: User) => user.id, defaultSize: 20, maxSize: 100 },
          async ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) => {
            const users = await pageOfUsers(ctx.services.store.db, filter, { before, after, limit, oldestFirst: inverted });
            for (const user of users) ctx.loaders.user.prime(user.id, user);
            return users;
          },
        );
        return { ...connection, totalCount: () => countUsers(ctx.services.store.db, filter) };
      },
    },
    { name: 'UserConnection', description: 'since 2026-12' },
    { name: 'UserEdge' },
  ),
);

builder.subscriptionField('accountUpdated', (t) =>
  t.field({
    type: UserRef,
    description: 'since 2026-12. The signed-in user now, then again whenever their balance or escrow changes.',
    authScopes: { signedIn: true },
    subscribe: async function* (_root, _args, ctx) {
      const viewerId = ctx.viewer?.id;
      if (!viewerId) return;
      // Listening starts before the first read, so a change committed in between is not missed.
      const changes = ctx.services.accountNews.listen(viewerId);
      try {
        const now = await ctx.loaders.user.load(viewerId);
        if (!now) return;
        yield now;
        for await (const _moved of changes) {
          // Fresh loaders: the balance and escrow as they are after this change. The user is read
          // anew too, so each update is its own object (shared results are keyed by it).
          ctx.loaders = createLoaders(ctx.services.store);
          const user = await ctx.loaders.user.load(viewerId);
          if (user) yield user;
        }
      } finally {
        changes.close();
      }
    },
    resolve: (user) => user,
  }),
);
