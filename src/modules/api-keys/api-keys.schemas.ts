import { z } from 'zod';
import { displayNameSchema } from '../tenants/tenants.schemas.ts';
import { SCOPES } from './scopes.ts';

export const scopeSchema = z.enum(SCOPES, `must be one of ${SCOPES.join(', ')}`);

export const createApiKeySchema = z.object({
  displayName: displayNameSchema,
  expiresAt: z.date('must be an RFC 3339 date-time').nullish(),
  scopes: z
    .array(scopeSchema)
    .min(1, 'must name at least one scope')
    .max(SCOPES.length * 2, 'has too many entries')
    .nullish(),
});

/** Grace period for the old secret after a roll: 0 (immediately) to 7 days. */
export const rollApiKeySchema = z.object({
  gracePeriodSeconds: z
    .number('must be a number of seconds')
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative')
    .max(7 * 86_400, 'must be at most 604800 (7 days)'),
});
