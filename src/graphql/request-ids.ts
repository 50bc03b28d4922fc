import type { IncomingMessage } from 'node:http';
import { getOperationAST } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import { requestInfo } from '../http/request-info.ts';

/**
 * Yoga's error masker sees an error, not the request it belongs to. Errors are marked here with
 * their request's ID before the masker (the last plugin) runs, so a masked error reports the
 * request's own X-Request-Id.
 */
const requestIds = new WeakMap<object, string>();

export function markRequestId(error: unknown, requestId: string): void {
  if (typeof error === 'object' && error !== null) requestIds.set(error, requestId);
}

export function markedRequestId(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? requestIds.get(error) : undefined;
}

interface RequestContext {
  requestId?: string;
  req?: IncomingMessage;
}

const MAX_OPERATION_NAME = 100;

/**
 * Marks every error of a result with the context's request ID, and names the operation in the
 * HTTP request's access log line (over a WebSocket, `req` is the upgrade request: left alone).
 */
export function useRequestIds(): Plugin {
  const markAll = (errors: readonly unknown[] | undefined, requestId: string | undefined) => {
    if (requestId) for (const error of errors ?? []) markRequestId(error, requestId);
  };
  return {
    onExecute({ args }) {
      const { requestId, req } = args.contextValue as RequestContext;
      if (req && !req.headers.upgrade) {
        const name = args.operationName ?? getOperationAST(args.document)?.name?.value;
        if (name) requestInfo(req).operation = name.slice(0, MAX_OPERATION_NAME);
      }
      return {
        onExecuteDone: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result }) =>
            markAll(result.errors, requestId),
          ),
      };
    },
    onSubscribe({ args }) {
      const { requestId } = args.contextValue as RequestContext;
      return {
        onSubscribeResult: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result }) =>
            markAll(result.errors, requestId),
          ),
        onSubscribeError: ({ error }) => markAll([error], requestId),
      };
    },
  };
}
