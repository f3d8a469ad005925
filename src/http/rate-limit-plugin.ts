import type { IncomingMessage } from 'node:http';
import { type DocumentNode, type ExecutionArgs, GraphQLError, getOperationAST, Kind, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { operationCost } from './operation-limits.ts';
import type { RateLimiter } from './rate-limits.ts';

/** A query at least this costly (see operation-limits.ts) counts against its caller's expensive budget. */
export const EXPENSIVE_COST = 1000;
/** Root fields that are expensive whatever their selection: matching every agent against a prompt. */
const EXPENSIVE_FIELDS = new Set(['quote']);

/** The client's address: the socket's, or with TRUST_PROXY the first X-Forwarded-For entry. */
export function clientIpOf(req: IncomingMessage | undefined, trustProxy: boolean): string {
  if (!req) return 'unknown';
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return (first || req.socket.remoteAddress || 'unknown').slice(0, 64);
}

/** How many times each root field is asked for (aliases and fragments included). */
function rootFieldCounts(selectionSet: SelectionSetNode, document: DocumentNode, counts = new Map<string, number>(), seen = new Set<string>()): Map<string, number> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) counts.set(selection.name.value, (counts.get(selection.name.value) ?? 0) + 1);
    else if (selection.kind === Kind.INLINE_FRAGMENT) rootFieldCounts(selection.selectionSet, document, counts, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) rootFieldCounts(fragment.selectionSet, document, counts, seen);
    }
  }
  return counts;
}

/**
 * Rate limits keyed by who calls what, checked before execution on every transport: signUp per client
 * address, createTask per buyer, expensive queries per client address. (Failed logIn is counted in its
 * resolver, which alone knows that the password was wrong.) Subscriptions are not counted.
 */
export function useRateLimits(limiter: RateLimiter): Plugin {
  const guard = async (args: ExecutionArgs): Promise<GraphQLError | undefined> => {
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation || operation.operation === 'subscription') return undefined;
    const context = args.contextValue as Context;
    const fields = rootFieldCounts(operation.selectionSet, args.document);
    try {
      if (operation.operation === 'mutation') {
        const signUps = fields.get('signUp');
        if (signUps) await limiter.consume('signUpPerIp', context.clientIp, signUps);
        const creates = fields.get('createTask');
        if (creates && context.viewer) await limiter.consume('createTaskPerBuyer', context.viewer.id, creates);
      } else if ((operationCost.get(args) ?? 0) >= EXPENSIVE_COST || [...fields.keys()].some((f) => EXPENSIVE_FIELDS.has(f))) {
        await limiter.consume('expensivePerIp', context.clientIp);
      }
    } catch (error) {
      if (error instanceof GraphQLError) return error;
      throw error;
    }
    return undefined;
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refusal = await guard(args);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
  };
}
