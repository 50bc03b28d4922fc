import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  getOperationAST,
} from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import { liveStagesObserved, markLiveStage } from '../lib/live-stages.ts';
import { createLiveStream, isLiveStream, listenLive } from '../lib/live-stream.ts';
import type { GraphQLContext } from './context.ts';

type MaybePromise<T> = T | Promise<T>;

/**
 * Results by source event (the feed pushes one object per audience and sync to all its
 * subscribers), then by document, then by organisation, operation name and variables. Weak on
 * the event: an event's results go with it once every subscriber has taken them.
 */
const resultsByEvent = new WeakMap<
  object,
  WeakMap<DocumentNode, Map<string, MaybePromise<ExecutionResult>>>
>();

/** The JSON of each shared result, made by the first transport that sends it. */
const sharedJson = new WeakMap<ExecutionResult, string>();
/** The same as UTF-8, for the transports that write bytes. */
const sharedBytes = new WeakMap<ExecutionResult, Buffer>();

/**
 * A subscription's events executed once per audience: subscribers of one organisation with the
 * same document, operation and variables get the same result object (and the same bytes, see
 * `resultJson`). Each subscriber still runs its own `subscribe` resolver (authorization, the
 * tenant check, its registration with the feed, which re-checks it before every push).
 *
 * The result is executed with the first subscriber's context, so fields below a subscription
 * must depend on the event only, never on the viewer; the organisation is in the key, so
 * nothing crosses organisations even if an event object did.
 */
export function useSharedSubscriptionResults(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeOncePerAudience as never);
    },
  };
}

/**
 * A door that writes a subscription's results itself (graphql-ws, SSE) takes clean ones here,
 * straight from the feed's push, past the envelop layers that only ever touch a result with
 * errors (request ids, error masking) and their promise per layer per subscriber. Results with
 * errors, and the end of the stream, still go through them. Registered under the operation's
 * context (graphql-ws: many operations per connection) or its HTTP request (SSE: one each),
 * before the operation's first read.
 */
export type DirectResultWriter = (result: ExecutionResult) => void;
const directWriters = new WeakMap<object, DirectResultWriter>();

export function writeResultsDirectly(operationKey: object, write: DirectResultWriter): void {
  directWriters.set(operationKey, write);
}

function directWriterOf(contextValue: unknown): DirectResultWriter | undefined {
  const context = contextValue as { request?: object };
  return (
    directWriters.get(context) ?? (context.request ? directWriters.get(context.request) : undefined)
  );
}

async function subscribeOncePerAudience(args: ExecutionArgs) {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return markRequestErrors(source);
  const operation = getOperationAST(args.document, args.operationName);
  const audience = audienceKey(args);
  // As graphql-tools' executor: a stream that ends with an error reports it at the operation.
  const atOperation = (error: Error) =>
    new GraphQLError(error.message, {
      originalError: error,
      nodes: operation ? [operation] : undefined,
    });
  if (!isLiveStream(source)) {
    return mapAsyncIterator(
      source,
      (event) => sharedResult(event, args, audience),
      (error: Error) => {
        throw atOperation(error);
      },
    );
  }
  const results = createLiveStream<ExecutionResult>({
    // The first read (through every layer) starts the feed's stream.
    start() {
      const direct = directWriterOf(args.contextValue);
      const deliver = (result: ExecutionResult) =>
        direct && !result.errors ? direct(result) : results.push(result);
      listenLive(source, {
        next(event) {
          const result = sharedResult(event, args, audience);
          if (result instanceof Promise) result.then(deliver, (e) => results.end(atOperation(e)));
          else deliver(result);
        },
        end: (error) => results.end(error && atOperation(error)),
      });
    },
    end() {
      void source[Symbol.asyncIterator]().return?.();
    },
  });
  return results.iterator;
}

function audienceKey(args: ExecutionArgs): string {
  const organisationId = (args.contextValue as GraphQLContext).session?.organisationId ?? '';
  return `${organisationId}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`;
}

function sharedResult(
  event: unknown,
  args: ExecutionArgs,
  audience: string,
): MaybePromise<ExecutionResult> {
  if (typeof event !== 'object' || event === null) return executeEvent(event, args);
  let byDocument = resultsByEvent.get(event);
  if (!byDocument) {
    byDocument = new WeakMap();
    resultsByEvent.set(event, byDocument);
  }
  let results = byDocument.get(args.document);
  if (!results) {
    results = new Map();
    byDocument.set(args.document, results);
  }
  let result = results.get(audience);
  if (!result) {
    result = executeEvent(event, args);
    results.set(audience, result);
  }
  return result;
}

function executeEvent(event: unknown, args: ExecutionArgs): MaybePromise<ExecutionResult> {
  const started = liveStagesObserved() ? performance.now() : 0;
  const done = (result: ExecutionResult) => {
    if (started) markLiveStage('executed', performance.now() - started);
    return shareable(result);
  };
  const result = execute({ ...args, rootValue: event });
  return result instanceof Promise ? result.then(done) : done(result);
}

/**
 * Yoga's SSE writer serialises a result with its own `stringify` when it has one; a result
 * without errors leaves Yoga's sanitising unchanged (the same object), so its JSON is shared.
 */
function shareable(result: ExecutionResult): ExecutionResult {
  if (result.errors) return result;
  Object.defineProperty(result, 'stringify', {
    value: (value: ExecutionResult) =>
      value === result ? resultJson(result) : JSON.stringify(value),
  });
  return result;
}

/** The JSON of a result; computed once for a result shared by many subscribers. */
export function resultJson(result: ExecutionResult): string {
  let json = sharedJson.get(result);
  if (json === undefined) {
    json = JSON.stringify(result);
    if (Object.hasOwn(result, 'stringify')) sharedJson.set(result, json);
  }
  return json;
}

/** `resultJson` as UTF-8 bytes, encoded once per shared result. */
export function resultBytes(result: ExecutionResult): Buffer {
  let bytes = sharedBytes.get(result);
  if (bytes === undefined) {
    bytes = Buffer.from(resultJson(result));
    if (Object.hasOwn(result, 'stringify')) sharedBytes.set(result, bytes);
  }
  return bytes;
}

/**
 * Errors found before any resolver ran (bad variables, no such operation) are the request's
 * fault: marked as graphql-tools' executor marks them, so every door answers as before.
 */
function markRequestErrors(result: ExecutionResult): ExecutionResult {
  for (const error of result.errors ?? []) {
    if (error.path !== undefined) continue;
    const extensions = error.extensions as Record<string, unknown>;
    extensions.http = { ...(extensions.http as object), status: 400 };
    extensions.code = 'BAD_USER_INPUT';
  }
  return result;
}
