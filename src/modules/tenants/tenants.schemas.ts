import { z } from 'zod';

export const ENVIRONMENTS = ['prod', 'staging', 'dev'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const DISPLAY_NAME_MAX = 100;

/** Display names: trimmed, 1-100 characters, no control characters. */
export const displayNameSchema = z
  .string('must be a string')
  .trim()
  .min(1, 'must not be empty or only whitespace')
  .max(DISPLAY_NAME_MAX, `must be at most ${DISPLAY_NAME_MAX} characters`)
  .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters');

export const environmentSchema = z.enum(ENVIRONMENTS, 'must be one of prod, staging, dev');

export const createTenantSchema = z.object({
  displayName: displayNameSchema,
  environment: environmentSchema,
  region: z.string().max(64, 'must be at most 64 characters').nullish(),
});

export const updateTenantSchema = z
  .object({
    displayName: displayNameSchema.nullish(),
    environment: environmentSchema.nullish(),
  })
  .refine((v) => v.displayName != null || v.environment != null, {
    message: 'give displayName or environment to change',
    path: ['input'],
  });

export const tenantFilterSchema = z.object({
  environment: environmentSchema.nullish(),
  search: z.string().trim().max(100, 'must be at most 100 characters').nullish(),
});

/** A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** What clients see: deleted tenants are never shown, so a tenant is active or suspended. */
export type VisibleStatus = 'active' | 'suspended';
export const visibleStatus = (status: string): VisibleStatus =>
  status === 'suspended' ? 'suspended' : 'active';
