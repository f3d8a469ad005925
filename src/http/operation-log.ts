import { type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin, type YogaServerOptions } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Context } from '../context.ts';
import { withCode } from './error-codes.ts';
import type { Metrics } from './metrics.ts';

/** Every string a log line carries is cut to this: a client chooses operation names and messages. */
const MAX_LOGGED = 200;
const bounded = (value: string | null | undefined) => (value == null ? undefined : value.length > MAX_LOGGED ? `${value.slice(0, MAX_LOGGED)}…` : value);

const codeOf = (result: ExecutionResult): string => {
  const first = result.errors?.[0];
  return first ? String(withCode(first instanceof GraphQLError ? first : new GraphQLError(String(first))).extensions.code) : 'OK';
};

function describe(args: ExecutionArgs): { operation: string; type: string } {
  const operation = getOperationAST(args.document, args.operationName);
  const first = operation?.selectionSet.selections.find((s) => s.kind === 'Field');
  return { operation: first?.kind === 'Field' ? first.name.value : '(none)', type: operation?.operation ?? 'unknown' };
}

/**
 * One log line per operation at info (root field, operationName, type, duration, outcome code, caller),
 * and the same facts into /metrics. Client mistakes are info, like any answer: only our own failures are
 * errors, and maskError logs those with their stack. Nothing the client sent is logged beyond the bounded
 * operation name: no variables, no query text, no tokens.
 */
export function useOperationLog(logger: Logger, metrics: Metrics): Plugin {
  /** HTTP requests whose operation reached execution (and was logged there). */
  const logged = new WeakSet<object>();
  const record = (args: ExecutionArgs | undefined, started: number, result: ExecutionResult) => {
    const request = (args?.contextValue as { request?: object } | undefined)?.request;
    if (request) logged.add(request);
    const { operation, type } = args ? describe(args) : { operation: '(refused)', type: 'unknown' };
    const code = codeOf(result);
    const seconds = (performance.now() - started) / 1000;
    metrics.operations.inc({ operation, type, code });
    metrics.duration.observe({ operation, type }, seconds);
    for (const error of result.errors ?? []) metrics.errors.inc({ operation, code: codeOf({ errors: [error] }) });
    if (!logger.isLevelEnabled('info')) return;
    const context = args?.contextValue as Partial<Context> | undefined;
    logger.info(
      {
        operation,
        operationName: bounded(args?.operationName),
        type,
        durationMs: Math.round(seconds * 100_000) / 100,
        code,
        caller: context?.viewer?.id ?? 'anonymous',
      },
      'graphql operation',
    );
  };
  return {
    onExecute({ args }) {
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          if (!isAsyncIterable(result)) record(args, started, result);
        },
      };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      return {
        onSubscribeResult({ result }) {
          // A live stream is logged when it starts; a refused subscription with its errors.
          record(args, started, isAsyncIterable(result) ? {} : result);
        },
      };
    },
    // Refused before execution (parse, validation, CSRF, body size): no onExecute saw it.
    onResultProcess({ request, result }) {
      if (Array.isArray(result) || isAsyncIterable(result) || logged.has(request)) return;
      record(undefined, performance.now(), result as ExecutionResult);
    },
  };
}

type YogaLogging = Exclude<NonNullable<YogaServerOptions<object, object>['logging']>, boolean | string>;

/**
 * Yoga's own log calls into pino: one message, bounded. Yoga reports a client's bad request (a GraphQL
 * error) on its error channel; that is debug here, never error.
 */
export function yogaLogging(logger: Logger): YogaLogging {
  const text = (a: unknown): string => {
    if (a instanceof Error) return a.message;
    if (typeof a === 'string') return a;
    try {
      return JSON.stringify(a) ?? String(a);
    } catch {
      return String(a);
    }
  };
  const line = (args: unknown[]) => bounded(args.map(text).join(' ')) ?? '';
  const clientMistake = (args: unknown[]) => args.some((a) => a instanceof GraphQLError);
  return {
    debug: (...args) => logger.debug(line(args)),
    info: (...args) => logger.info(line(args)),
    warn: (...args) => (clientMistake(args) ? logger.debug(line(args)) : logger.warn(line(args))),
    error: (...args) => (clientMistake(args) ? logger.debug(line(args)) : logger.error(line(args))),
  };
}
