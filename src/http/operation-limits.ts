import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLArmorCallbackConfiguration } from '@escape.tech/graphql-armor-types';
import { createComplexityRule } from '@pothos/plugin-complexity';
import { type ExecutionArgs, GraphQLError, NoSchemaIntrospectionCustomRule, validate, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { OperationLimits } from '../config.ts';

/**
 * Limits on what one operation may ask for, checked before anything executes, on every transport (HTTP,
 * SSE and graphql-ws all go through these envelop hooks: parse and validate for the static limits, the
 * start of execute/subscribe for the cost, which depends on the variables).
 *
 * - tokens (graphql-armor, while parsing): bounds the parser's work and recursion, so a 100,000-deep
 *   query fails as a syntax error long before any stack is at risk;
 * - depth, aliases, directives (graphql-armor validation rules): refused with the other validation
 *   errors, so graphql-jit never compiles such a document;
 * - cost (Pothos' complexity rule, with the variables): every field costs 1, a list multiplies what is
 *   under it by its page size (`first`/`last`/`limit`, capped as the resolvers cap them) or by 10.
 */
export function useOperationLimits(limits: OperationLimits, options: { allowIntrospection: boolean }): Plugin[] {
  const refuse: GraphQLArmorCallbackConfiguration = {
    // The armor rules throw from inside graphql-js' visitor, which would stop validation at the first
    // refusal; reporting instead gives one coded error, and the rule after it still runs.
    propagateOnRejection: false,
    onReject: [(context, error) => reportLimit(context, error)],
  };
  const plugins: Plugin[] = [
    // Thrown from the parser (reportLimit throws when there is no validation context to report to).
    maxTokensPlugin({ n: limits.tokens, propagateOnRejection: true, onReject: refuse.onReject }) as Plugin,
    maxDepthPlugin({ n: limits.depth, flattenFragments: false, ...refuse }) as Plugin,
    maxAliasesPlugin({ n: limits.aliases, allowList: [], ...refuse }) as Plugin,
    maxDirectivesPlugin({ n: limits.directives, ...refuse }) as Plugin,
    useCostLimit(limits.cost),
  ];
  if (!options.allowIntrospection) {
    plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) });
    plugins.push(blockFieldSuggestionsPlugin({ mask: '' }) as Plugin);
  }
  return plugins;
}

function reportLimit(context: ValidationContext | null, error: GraphQLError): void {
  const coded = limitError(error.message);
  if (context) context.reportError(coded);
  else throw coded;
}

/** armor's messages start "Syntax Error: " whatever the limit; the client gets the limit and a code. */
function limitError(message: string): GraphQLError {
  return new GraphQLError(message.replace(/^Syntax Error: /, ''), { extensions: { code: 'QUERY_TOO_COMPLEX' } });
}

/** Each operation's cost, once checked: the rate limits count the expensive ones (rate-limit-plugin.ts). */
export const operationCost = new WeakMap<ExecutionArgs, number>();

/**
 * The cost limit runs where the variables are known (a page size may be a variable), before the first
 * resolver and before graphql-jit compiles the document: one walk of the document, no execution.
 */
function useCostLimit(maxCost: number): Plugin {
  const check = (args: ExecutionArgs): readonly GraphQLError[] => {
    const rule = createComplexityRule({
      context: args.contextValue as object,
      variableValues: (args.variableValues ?? {}) as Record<string, unknown>,
      operationName: args.operationName,
      validate: ({ complexity }, report) => {
        operationCost.set(args, complexity);
        if (complexity > maxCost) {
          report(new GraphQLError(`Query cost limit of ${maxCost} exceeded, found ${complexity}.`, { extensions: { code: 'QUERY_TOO_COMPLEX' } }));
        }
      },
    });
    try {
      return validate(args.schema, args.document, [rule]);
    } catch {
      // Whatever the cost walk cannot read is left to execution, which reports it with its code.
      return [];
    }
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
