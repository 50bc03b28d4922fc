import type { Config } from '../src/config.ts';
import { InvalidCredentialsError } from '../src/lib/errors.ts';
import type { AuthResult } from '../src/modules/auth/auth.service.ts';
import type { Services } from '../src/services.ts';

/** The guide's training login (Exercise 4.1). Created only by `npm run demo`, never in production. */
export const TRAINING = {
  organisationName: 'xScaler Training',
  email: 'training@example.com',
  password: 'Training123!',
  plan: 'scale',
} as const;

export class DemoRefusedError extends Error {}

/** Default credentials must never reach production. */
export function refuseInProduction(config: Pick<Config, 'env'>): void {
  if (config.env === 'production') {
    throw new DemoRefusedError(
      'Refusing to create demo credentials with NODE_ENV=production: the training login is public.',
    );
  }
}

/**
 * Creates the training organisation on the Scale plan with its owner, through the services
 * (same rules as any signup). Idempotent: a second run logs in and makes sure of the plan.
 */
export async function seedTrainingOrganisation(
  services: Services,
  config: Pick<Config, 'env'>,
): Promise<{ created: boolean; organisationId: string }> {
  refuseInProduction(config);
  let result: AuthResult;
  let created = false;
  try {
    // Already there: log in. Signup would not say so (an existing email gets login's answer).
    result = await services.auth.login(TRAINING);
  } catch (err) {
    if (!(err instanceof InvalidCredentialsError)) throw err;
    // Not there yet, or its password was changed: then signup fails too, and we stop.
    result = await services.auth.signup(TRAINING);
    created = true;
  }
  const { user } = result;
  const session = { userId: user.id, organisationId: user.organisationId, role: user.role };
  await services.organisations.changePlan(session, { plan: TRAINING.plan });
  return { created, organisationId: user.organisationId };
}
