import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import type { Context } from '../context.ts';
import { ValidationError } from '../market/errors.ts';
import { mayManageAgent, mayReadAccount } from '../market/visibility.ts';

/**
 * The SchemaBuilder's configuration and nothing else: types live in their own files (see index.ts).
 * Plugin order matters: scope-auth runs first so nothing resolves for a caller who may not ask; errors
 * wraps validation so that invalid input becomes a ValidationError member of the field's union.
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Sats: { Input: number; Output: number };
    ID: { Input: string; Output: string };
  };
  AuthScopes: {
    signedIn: boolean;
    buyer: boolean;
    operator: boolean;
    admin: boolean;
    /** A user's private parts, by user id: that user or an admin (market/visibility.ts). */
    account: string;
    /** An agent's private parts, by the agent's operator id: that operator or an admin. */
    agentOwner: string | null;
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Connection: { totalCount: () => Promise<number> | number };
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ValidationPlugin, RelayPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Without this, a subscription field's scopes are checked only when an event resolves: an anonymous
    // caller would get the field's own FORBIDDEN/NOT_FOUND (or a silent stream) instead of UNAUTHENTICATED.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      signedIn: ctx.viewer !== null,
      buyer: ctx.viewer?.role === 'BUYER',
      operator: ctx.viewer?.role === 'AGENT',
      admin: ctx.viewer?.role === 'ADMIN',
      account: (userId) => mayReadAccount(ctx.viewer, userId),
      agentOwner: (operatorId) => mayManageAgent(ctx.viewer, { operatorId }),
    }),
    // The contract: not signed in -> UNAUTHENTICATED (with why a token was refused); signed in -> FORBIDDEN.
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer
        ? new GraphQLError('Your role may not do this', { extensions: { code: 'FORBIDDEN' } })
        : new GraphQLError(ctx.authProblem ? `Sign in again: ${ctx.authProblem}` : 'Sign in to do this', {
            extensions: { code: 'UNAUTHENTICATED' },
          }),
  },
  // unsafelyHandleInputErrors: validation runs as an arg mapper, before the resolver the errors plugin
  // wraps; without it invalid input escapes as a top-level error instead of the union's ValidationError
  // the contract promises. The cost Pothos warns of: input is validated before authorization, so an
  // anonymous caller with invalid input learns only that it is invalid (what the public schema says).
  errors: { directResult: true, unsafelyHandleInputErrors: true },
  validation: {
    validationError: (result) =>
      new ValidationError(
        result.issues.map((issue) => ({
          path: (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? p.key : p)),
          message: issue.message,
        })),
      ),
  },
  // Only the fields' costs: the limit is checked once per operation by useOperationLimits (before execution,
  // with the variables), not by wrapping every root resolver.
  complexity: { disabled: true, defaultComplexity: 1, defaultListMultiplier: 10 },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    // The connection field's page size already multiplies what is under it.
    edgesFieldOptions: { nullable: false, complexity: { field: 1, multiplier: 1 } },
    nodeFieldOptions: { nullable: false },
  },
});

/** The cost multiplier of a paginated field: the page it will return (the resolvers cap pages at 100). */
export function pageCost(args: { first?: number | null; last?: number | null; limit?: number | null }, fallback = 20): { field: number; multiplier: number } {
  const size = args.first ?? args.last ?? args.limit ?? fallback;
  return { field: 1, multiplier: Math.max(1, Math.min(size, 100)) };
}
