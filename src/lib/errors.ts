/**
 * Expected failures, thrown by services. GraphQL exposes them as typed results (or, for
 * authentication/authorization, as error codes); REST maps them to a status and a JSON body.
 */
export class DomainError extends Error {
  override name = 'DomainError';
}

export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${JSON.stringify(id)} not found`);
  }
}

export class ValidationError extends DomainError {
  override name = 'ValidationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class ConflictError extends DomainError {
  override name = 'ConflictError';
}

export class PlanLimitExceededError extends DomainError {
  override name = 'PlanLimitExceededError';
  constructor(
    readonly plan: string,
    readonly limit: string,
    readonly max: number,
    /** How many there are now: above max after a downgrade. */
    readonly used: number = max,
  ) {
    super(
      used > max
        ? `The ${plan} plan allows at most ${max} ${limit} and there are ${used}: over the limit, the existing ones keep working, but no more can be created until it fits (remove ${used - max + 1} or change the plan)`
        : `The ${plan} plan allows at most ${max} ${limit}; change the plan to add more`,
    );
  }
}

export class InvalidCredentialsError extends DomainError {
  override name = 'InvalidCredentialsError';
  constructor() {
    super('Invalid email or password');
  }
}

export class UnauthenticatedError extends DomainError {
  override name = 'UnauthenticatedError';
  constructor(
    message = 'Authentication required: send a valid token as "Authorization: Bearer <token>"',
  ) {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  override name = 'ForbiddenError';
}

export class RateLimitedError extends DomainError {
  override name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many failed logins; try again in ${retryAfterSeconds} s`,
  ) {
    super(message);
  }
}

/** A refresh token that is unknown, ended by logout or a password change, or past its max age. */
export class SessionExpiredError extends DomainError {
  override name = 'SessionExpiredError';
  constructor(message = 'Your session has ended; log in again') {
    super(message);
  }
}

/**
 * A dependency (the database, the password hasher's queue) cannot serve the request now; the
 * same request may succeed later. Never a bug: REST answers 503 with Retry-After, GraphQL an
 * error with code SERVICE_UNAVAILABLE, and it is logged as a warning, not as an error.
 */
export class ServiceUnavailableError extends DomainError {
  override name = 'ServiceUnavailableError';
  constructor(
    message = 'The service is temporarily unavailable; retry shortly',
    readonly retryAfterSeconds = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
