import { type ASTNode, GraphQLError } from 'graphql';
import {
  ConflictError,
  InvalidCredentialsError,
  NotFoundError,
  PlanLimitExceededError,
  RateLimitedError,
  type ServiceUnavailableError,
  SessionExpiredError,
  ValidationError,
} from '../lib/errors.ts';
import { builder } from './builder.ts';

/** Expected failures are part of the schema: every typed error implements Error. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The object does not exist or belongs to another organisation.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    resource: t.exposeString('resource'),
    // ID, like the objects' own ids, so `... on Tenant { id } ... on NotFoundError { id }` merges.
    id: t.exposeID('id'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An input broke a rule; `field` names which one.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field') }),
});

builder.objectType(PlanLimitExceededError, {
  name: 'PlanLimitExceededError',
  description: 'The billing plan does not allow more of this; `changePlan` raises the limit.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    plan: t.exposeString('plan'),
    limit: t.exposeString('limit', { description: 'What is limited, e.g. "tenants".' }),
    max: t.exposeInt('max'),
    used: t.exposeInt('used', {
      description: 'How many there are now; above max after a downgrade.',
    }),
  }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(InvalidCredentialsError, {
  name: 'InvalidCredentialsError',
  description: 'Unknown email or wrong password: deliberately the same answer.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description:
    'Too many attempts (logins for this email from this address or for this account, signups from this address, password changes); wait retryAfterSeconds and retry.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});

builder.objectType(SessionExpiredError, {
  name: 'SessionExpiredError',
  description:
    'The refresh token is unknown, logged out, superseded by a password change, or too old.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

/**
 * A dependency that cannot serve now (the database lost or too slow, a full queue): code
 * SERVICE_UNAVAILABLE and Retry-After on every media type; the HTTP status is 503 for
 * `application/graphql-response+json` and 200 for `application/json` (which the GraphQL over
 * HTTP spec keeps at 200 for every well-formed request). Yoga reads and strips `http`.
 */
export function unavailableError(
  error: ServiceUnavailableError,
  at: { path?: readonly (string | number)[]; nodes?: readonly ASTNode[] | ASTNode | null },
): GraphQLError {
  return new GraphQLError(error.message, {
    ...at,
    extensions: {
      code: 'SERVICE_UNAVAILABLE',
      retryAfterSeconds: error.retryAfterSeconds,
      http: {
        status: 503,
        spec: true,
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      },
    },
  });
}
