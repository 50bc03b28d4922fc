import type { Server } from 'node:http';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { asServiceUnavailable } from '../db/errors.ts';
import { unavailableError } from './errors.ts';
import type { GraphQLServer } from './yoga.ts';

/** Largest WebSocket message accepted (ws allows 100 MiB by default). */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

type EnvelopedArgs = {
  rootValue: { execute: (args: unknown) => unknown; subscribe: (args: unknown) => unknown };
};

/**
 * graphql-ws on the same /graphql path. Every operation goes through Yoga's envelop, so the
 * same plugins (armor limits, error masking, authentication from connectionParams) apply.
 */
export function attachGraphQLWebSocket(server: Server, yoga: GraphQLServer) {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: MAX_WS_MESSAGE_BYTES });
  const disposable = useServer(
    {
      execute: (args) => (args as unknown as EnvelopedArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as unknown as EnvelopedArgs).rootValue.subscribe(args) as never,
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
          // The context's session lookup met a lost database: "retry", not a bad operation.
          const unavailable = asServiceUnavailable(err);
          return [
            unavailable ? unavailableError(unavailable, {}) : new GraphQLError('Invalid operation'),
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
