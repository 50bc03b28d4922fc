import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputValidationError } from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { clientAddress } from '../http/client-address.ts';
import { requestInfo } from '../http/request-info.ts';
import {
  DomainError,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthenticatedError,
} from '../lib/errors.ts';
import { reportFailure } from '../lib/failures.ts';
import type { Logger } from '../lib/logger.ts';
import { useOneCredentialFieldPerOperation } from '../modules/auth/credential-fields-rule.ts';
import type { Services } from '../services.ts';
import { armorPlugin } from './armor.ts';
import { useCompiledQueries } from './compiled-queries.ts';
import { authenticateHeader, type GraphQLContext } from './context.ts';
import { markVariableError, useNestingLimit, useParseErrorCodes } from './document-errors.ts';
import { unavailableError } from './errors.ts';
import { renderOfflineGraphiQL, useOfflineGraphiQL } from './graphiql.ts';
import { useParamJsonErrors } from './param-errors.ts';
import { markedRequestId, markRequestId, useRequestIds } from './request-ids.ts';
import { schema } from './schema.ts';
import { useSharedSubscriptionResults } from './shared-subscriptions.ts';
import { useSseResponses } from './sse-responses.ts';

export const MAX_REQUEST_BYTES = 100 * 1024;

/** Known failures keep a clear message and a code; anything else becomes "Unexpected error." */
export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    const at = error instanceof GraphQLError ? { path: error.path, nodes: error.nodes } : {};
    if (original === undefined || original === null) {
      return error instanceof GraphQLError ? markVariableError(error) : (error as Error);
    }
    // A GraphQLError keeps its own words and code; the outer one adds locations and the path
    // (a bad variable: "Variable \"$v\" got invalid value ...; ID cannot represent ...").
    if (original instanceof GraphQLError) return markVariableError(error as GraphQLError);
    // Before the DomainError test below: a full queue is a DomainError too, but "retry".
    if (original instanceof ServiceUnavailableError) return unavailableError(original, at);
    const code =
      original instanceof UnauthenticatedError
        ? 'UNAUTHENTICATED'
        : original instanceof ForbiddenError
          ? 'FORBIDDEN'
          : original instanceof NotFoundError
            ? 'NOT_FOUND'
            : original instanceof InputValidationError || original instanceof DomainError
              ? 'BAD_USER_INPUT'
              : undefined;
    if (code) return new GraphQLError((original as Error).message, { ...at, extensions: { code } });
    // A lost or overloaded database is "retry", not a bug; a bug is logged under the request's ID.
    const failure = reportFailure(
      logger,
      original,
      { path: error instanceof GraphQLError ? error.path?.join('.') : undefined },
      markedRequestId(error) ?? markedRequestId(original),
    );
    if (failure.kind === 'unavailable') return unavailableError(failure.error, at);
    return new GraphQLError('Unexpected error.', {
      ...at,
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: failure.requestId },
    });
  };
}

/**
 * Content types a browser may POST cross-site without a CORS preflight (an HTML form on any
 * page): refused, so no other site can make a visitor's browser sign up or guess logins here.
 */
const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

/** Yoga answers a POST it cannot parse with an empty 415; this one says what to send instead. */
const explainUnsupportedMediaType: Plugin = {
  onRequestParse({ request, requestParser, endResponse, fetchAPI }) {
    if (request.method !== 'POST') return;
    const type = request.headers.get('content-type');
    if (requestParser && !FORM_TYPES.test(type ?? '')) return;
    const message = `Unsupported Content-Type ${type ? JSON.stringify(type) : '(none)'}: send a JSON body with "Content-Type: application/json"`;
    endResponse(
      new fetchAPI.Response(
        JSON.stringify({ errors: [{ message, extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } }] }),
        { status: 415, headers: { 'content-type': 'application/json; charset=utf-8' } },
      ),
    );
  },
};

const stringOrNull = (v: unknown) => (typeof v === 'string' ? v : null);

export interface YogaDeps {
  config: Config;
  db: Db;
  services: Services;
  logger: Logger;
}

export function createContextFactory({ config, db, services, logger }: YogaDeps) {
  return async (
    authorization: string | null | undefined,
    clientAddress: string,
    requestId: string,
  ): Promise<GraphQLContext> => {
    try {
      const { session, authError } = await authenticateHeader(services, authorization);
      // The session carries the address into the services: audit events record it.
      return {
        db,
        config,
        services,
        logger,
        clientAddress,
        requestId,
        session: session && { ...session, clientAddress },
        authError,
      };
    } catch (err) {
      markRequestId(err, requestId); // masked outside any execution: by the ID marked here
      throw err;
    }
  };
}

export function createGraphQLServer(deps: YogaDeps) {
  const makeContext = createContextFactory(deps);
  return createYoga<{ req: IncomingMessage; res?: ServerResponse }>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: deps.config.graphiql,
    // Every GraphiQL asset inlined in the page: it works offline and loads nothing from a CDN.
    renderGraphiQL: renderOfflineGraphiQL,
    landingPage: false,
    // Yoga's default reflects any Origin; the /graphql door applies CORS_ORIGINS (src/http/cors.ts).
    cors: false,
    maxRequestBodySize: MAX_REQUEST_BYTES,
    logging: false,
    maskedErrors: { maskError: createErrorMasker(deps.logger) },
    plugins: [
      useOfflineGraphiQL(() => ({})),
      explainUnsupportedMediaType,
      useParamJsonErrors(),
      useNestingLimit(),
      useParseErrorCodes(),
      armorPlugin(),
      useOneCredentialFieldPerOperation(),
      // Before the request IDs: its errors are replaced by graphql-js-shaped ones.
      ...useCompiledQueries(),
      useRequestIds(),
      useSharedSubscriptionResults(),
      useSseResponses(),
    ],
    // HTTP sends the token as a header (from Yoga's Request, or passed as `authorization` by the
    // JSON POST handler); graphql-ws in connectionParams.authorization.
    context: (initial: {
      request?: Request;
      req?: IncomingMessage;
      authorization?: string | null;
      connectionParams?: Record<string, unknown>;
    }) =>
      makeContext(
        initial.request?.headers.get('authorization') ??
          initial.authorization ??
          stringOrNull(initial.connectionParams?.authorization),
        initial.req ? clientAddress(initial.req, deps.config.trustedProxies) : '',
        // HTTP: the request's; graphql-ws: the upgrade request's, one for the connection.
        initial.req ? requestInfo(initial.req).id : randomUUID(),
      ),
  });
}

export type GraphQLServer = ReturnType<typeof createGraphQLServer>;
