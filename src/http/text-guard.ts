import { type DocumentNode, type ExecutionArgs, GraphQLError, getOperationAST, Kind, visit, BREAK } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isStorableText, STORABLE_TEXT_MESSAGE } from '../market/text.ts';

/**
 * NUL characters and lone surrogates in the text of queries and subscriptions (ids, cursors, prompts to
 * quote): refused with BAD_USER_INPUT before anything runs, the same on SQLite and PostgreSQL (which
 * would otherwise fail the query with a 500). Mutations are not checked here: their inputs are validated
 * field by field (src/market/inputs.ts, `text()`), and come back as the ValidationError of their union.
 */
export function useTextGuard(): Plugin {
  const check = (args: ExecutionArgs, stop: (result: { errors: GraphQLError[] }) => void) => {
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation || operation.operation === 'mutation') return;
    const problem = badVariable(args.variableValues) ?? (hasBadLiteral(args.document) ? 'a string in the query' : undefined);
    if (problem) stop({ errors: [new GraphQLError(`${problem} ${STORABLE_TEXT_MESSAGE}`, { extensions: { code: 'BAD_USER_INPUT' } })] });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
  };
}

/** The first variable holding bad text, as `Variable "$input" at "input.prompt"`; walked without recursion. */
function badVariable(variables: unknown): string | undefined {
  if (typeof variables !== 'object' || variables === null) return undefined;
  const stack: { value: unknown; path: (string | number)[] }[] = Object.entries(variables).map(([name, value]) => ({ value, path: [name] }));
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === 'string') {
      if (!isStorableText(value)) return `Variable "$${path[0]}"${path.length > 1 ? ` at "${path.join('.')}"` : ''}:`;
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) stack.push({ value: v, path: [...path, key] });
    }
  }
  return undefined;
}

/** Documents are parsed once and cached by Yoga, so each is walked once. */
const literalVerdicts = new WeakMap<DocumentNode, boolean>();

function hasBadLiteral(document: DocumentNode): boolean {
  let verdict = literalVerdicts.get(document);
  if (verdict === undefined) {
    verdict = false;
    visit(document, {
      [Kind.STRING]: (node) => {
        if (isStorableText(node.value)) return undefined;
        verdict = true;
        return BREAK;
      },
    });
    literalVerdicts.set(document, verdict);
  }
  return verdict;
}
