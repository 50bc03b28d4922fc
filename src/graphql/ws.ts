import type { Server } from 'node:http';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { isAsyncIterable } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { requestInfo } from '../http/request-info.ts';
import { reportFailure } from '../lib/failures.ts';
import type { Logger } from '../lib/logger.ts';
import { unavailableError } from './errors.ts';
import { writeNextMessages } from './ws-next-messages.ts';
import type { GraphQLServer } from './yoga.ts';

/** Largest WebSocket message accepted (ws allows 100 MiB by default). */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

/**
 * `extensions.http` tells Yoga which HTTP status and headers to answer with; a WebSocket
 * message has neither, so it leaves before the error is sent (Yoga drops it only over HTTP).
 */
export function formatForSocket(error: GraphQLError): GraphQLFormattedError {
  const formatted = error.toJSON();
  if (!formatted.extensions || !('http' in formatted.extensions)) return formatted;
  const { http: _http, ...extensions } = formatted.extensions;
  const { extensions: _all, ...rest } = formatted;
  return Object.keys(extensions).length > 0 ? { ...rest, extensions } : rest;
}

type EnvelopedArgs = {
  rootValue: { execute: (args: unknown) => unknown; subscribe: (args: unknown) => unknown };
};

/**
 * graphql-ws on the same /graphql path. Every operation goes through Yoga's envelop, so the
 * same plugins (armor limits, error masking, authentication from connectionParams) apply.
 */
export function attachGraphQLWebSocket(server: Server, yoga: GraphQLServer, logger: Logger) {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_WS_MESSAGE_BYTES });
  const disposable = useServer(
    {
      execute: (args) => (args as unknown as EnvelopedArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as unknown as EnvelopedArgs).rootValue.subscribe(args) as never,
      onError: (_ctx, _id, _payload, errors) => errors.map(formatForSocket),
      // Subscriptions write their own `next` messages: a result shared by many is serialised once.
      onOperation: (ctx, id, _payload, args, result) =>
        isAsyncIterable(result)
          ? writeNextMessages(
              ctx.extra.socket,
              id,
              result,
              formatForSocket,
              args.contextValue as object,
            )
          : undefined,
      // A query or mutation over the socket: untouched (undefined) unless it carries errors.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(formatForSocket) } : undefined,
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
        });
        try {
          const document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length > 0) return errors;
          return {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
        } catch (err) {
          // Armor limits and syntax errors throw inside parse/validate: answer, don't close with 4500.
          if (err instanceof GraphQLError) return [err];
          // The context's session lookup met a lost database: "retry", not a bad operation;
          // anything else is a bug, logged under the requestId the client sees, as over HTTP.
          const failure = reportFailure(
            logger,
            err,
            { door: 'graphql-ws' },
            requestInfo(ctx.extra.request).id,
          );
          return [
            failure.kind === 'unavailable'
              ? unavailableError(failure.error, {})
              : new GraphQLError('Unexpected error.', {
                  extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: failure.requestId },
                }),
          ];
        }
      },
    },
    wss,
  );
  return {
    async dispose() {
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
