import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { UnauthenticatedError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { AuthenticatedSession } from '../modules/auth/session.ts';
import type { Services } from '../services.ts';

export interface GraphQLContext {
  db: Db;
  config: Config;
  services: Services;
  logger: Logger;
  /** Null for anonymous callers; authError says why a presented token was refused. */
  session: AuthenticatedSession | null;
  authError: UnauthenticatedError | null;
  /** The client (the TCP peer, or X-Forwarded-For from a trusted proxy); limits count per address. */
  clientAddress: string;
  /** X-Request-Id (the client's, or generated): in access lines and masked errors. */
  requestId: string;
}

/** How a subscription reaches its client: graphql-ws passes its socket into the context. */
export function transportOf(ctx: GraphQLContext): 'graphql-ws' | 'sse' {
  return (ctx as { socket?: unknown }).socket ? 'graphql-ws' : 'sse';
}

/** The session of a field that requires one (scope-auth has already refused anonymous calls). */
export function sessionOf(ctx: GraphQLContext): AuthenticatedSession {
  if (!ctx.session) throw ctx.authError ?? new UnauthenticatedError();
  return ctx.session;
}

/** Resolves `Bearer <token>` into a session; a bad token is remembered, not thrown, so public fields still work. */
export async function authenticateHeader(
  services: Services,
  authorization: string | null | undefined,
): Promise<Pick<GraphQLContext, 'session' | 'authError'>> {
  if (!authorization) return { session: null, authError: null };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) {
    return {
      session: null,
      authError: new UnauthenticatedError('Authorization header must be "Bearer <token>"'),
    };
  }
  try {
    return { session: await services.auth.authenticate(match[1]!), authError: null };
  } catch (err) {
    if (err instanceof UnauthenticatedError) return { session: null, authError: err };
    throw err;
  }
}
