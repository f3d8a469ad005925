import { type ExecutionResult, GraphQLError } from 'graphql';
import { mapAsyncIterator, type Plugin } from 'graphql-yoga';

/** The longest error message a client gets back: coercion errors echo the value they refused. */
const MAX_MESSAGE_LENGTH = 300;

/**
 * The code of an error graphql-js or Yoga produced without one, from what it says. Everything the API
 * returns carries `extensions.code`, so a client can branch on it instead of on English text.
 */
function codeFor(error: GraphQLError): string {
  const message = error.message;
  if (message.includes('Token limit of')) return 'QUERY_TOO_COMPLEX';
  if (message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  if (message.startsWith('Variable "$')) return 'BAD_USER_INPUT';
  if (/^(Unknown operation named|Must provide operation name|Must provide query string|Could not determine what operation|Unable to identify operation)/.test(message)) {
    return 'OPERATION_RESOLUTION_FAILURE';
  }
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  if (status !== undefined && status >= 400 && status < 500) return 'BAD_REQUEST';
  if (!error.originalError && error.nodes && error.nodes.length > 0) return 'GRAPHQL_VALIDATION_FAILED';
  if (!error.originalError && error.path === undefined) return 'GRAPHQL_VALIDATION_FAILED';
  return 'INTERNAL_SERVER_ERROR';
}

/** The error with a code and a message of bounded length; the same object when it already has both. */
export function withCode(error: GraphQLError): GraphQLError {
  const code = error.extensions?.code;
  const coercion = coercionParts(error);
  if (typeof code === 'string' && error.message.length <= MAX_MESSAGE_LENGTH && !coercion && !error.extensions?.originalError) return error;
  // Yoga puts a parse failure's JSON.parse error (with a piece of the body) in extensions: not the client's business.
  const { originalError: _internal, ...extensions } = error.extensions ?? {};
  const message = coercion ? coercion.message : error.message;
  return new GraphQLError(message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: {
      ...extensions,
      code: typeof code === 'string' ? code : codeFor(error),
      ...(coercion && { variable: coercion.variable, path: coercion.path }),
    },
  });
}

/**
 * graphql-js' coercion failure `Variable "$input" got invalid value <the value, whole> at "input.maxPrice";
 * <reason>`, told again with the value cut short, and the variable and path as data.
 */
function coercionParts(error: GraphQLError): { message: string; variable: string; path: string[] } | undefined {
  const head = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value /.exec(error.message);
  if (!head) return undefined;
  const variable = head[1]!;
  const reason = error.originalError?.message;
  const rest = error.message.slice(head[0].length, reason !== undefined ? error.message.length - reason.length - 2 : undefined);
  const at = / at "([^"]*)"$/.exec(rest);
  const value = at ? rest.slice(0, at.index) : rest;
  const path = at ? at[1]!.split(/\.|\[|\]/).filter(Boolean) : [variable];
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  const message = `Variable "$${variable}" got invalid value ${shown}${at ? ` at "${at[1]}"` : ''}${reason !== undefined ? `; ${reason}` : ''}`;
  return { message, variable, path };
}

export function withCodes(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.map((error) => withCode(error instanceof GraphQLError ? error : new GraphQLError(String((error as Error).message ?? error))));
}

export function resultWithCodes<T extends ExecutionResult>(result: T): T {
  return result.errors ? { ...result, errors: withCodes(result.errors) } : result;
}

/** Yoga plugin: every result it sends (HTTP, batches, SSE streams) passes through `withCodes`. */
export function useErrorCodes(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) setResult(result.map((r: ExecutionResult) => resultWithCodes(r)));
      else if (Symbol.asyncIterator in (result as object)) setResult(mapAsyncIterator(result as AsyncIterable<ExecutionResult>, resultWithCodes));
      else setResult(resultWithCodes(result as ExecutionResult));
    },
  };
}
