/**
 * One execution per event, per kind of subscriber, instead of one per subscriber.
 *
 * graphql-js runs a subscription's selection set once for every subscriber and every event. When ten
 * thousand dashboards watch the same stream, that is ten thousand identical executions of the same
 * selection over the same event object, and it was most of the cost of a broadcast (figure 5 of
 * `npm run bench`). Here the source stream still runs per subscriber (each one's own authorization,
 * visibility check and pacing), but each event's result is computed once per
 * (event object, operation, variables, viewer) and handed to every subscriber with that key.
 *
 * Why sharing is safe: a result depends only on the event, the operation and its variables, and the
 * context; the context differs between subscribers only in who the viewer is (and why a token was not
 * accepted), which is part of the key. Loaders are already shared per event (`refreshLoaders`). Results
 * are keyed by the event object itself in a WeakMap, so they go when the event does; streams whose
 * events are built per subscriber (`taskUpdated` re-reads its task) simply never hit.
 */
import type { Plugin } from 'graphql-yoga';
import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, execute } from 'graphql';
import type { Context } from '../context.ts';

type Result = ExecutionResult | Promise<ExecutionResult>;

const resultsByEvent = new WeakMap<object, Map<string, Result>>();
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

function documentId(document: DocumentNode): number {
  let id = documentIds.get(document);
  if (id === undefined) {
    id = nextDocumentId++;
    documentIds.set(document, id);
  }
  return id;
}

/** Everything besides the event that a result depends on. */
function keyOf(args: ExecutionArgs): string {
  const context = args.contextValue as Partial<Context> | undefined;
  const viewer = context?.viewer;
  return JSON.stringify([
    documentId(args.document),
    args.operationName ?? null,
    args.variableValues ?? null,
    viewer ? `${viewer.role}:${viewer.id}` : null,
    context?.authProblem ?? null,
  ]);
}

function executeOnce(args: ExecutionArgs, key: string, event: unknown): Result {
  if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
  let results = resultsByEvent.get(event);
  if (!results) {
    results = new Map();
    resultsByEvent.set(event, results);
  }
  let result = results.get(key);
  if (!result) {
    result = execute({ ...args, rootValue: event });
    results.set(key, result);
  }
  return result;
}

/**
 * Like graphql-js's `subscribe`, with the per-event execution shared. The returned iterator forwards
 * `return()` to the source at once (not after the next event), so an unsubscribe closes the stream.
 */
export async function subscribeSharingResults(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  return new SharedResults(source[Symbol.asyncIterator](), args, keyOf(args));
}

/** A class rather than an object literal: one lives per subscription, and its methods are shared. */
class SharedResults implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly events: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    private readonly key: string,
  ) {}

  async next(): Promise<IteratorResult<ExecutionResult>> {
    const next = await this.events.next();
    return next.done ? { done: true, value: undefined } : { done: false, value: await executeOnce(this.args, this.key, next.value) };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.events.return?.();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.events.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

/** The envelop plugin: every subscription (graphql-ws and SSE alike) goes through `subscribeSharingResults`. */
export function useSharedSubscriptionResults(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeSharingResults);
    },
  };
}
