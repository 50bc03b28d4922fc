import { z } from 'zod';

/** Everything the log records; `<object type>.<what happened>`. */
export const AUDIT_ACTIONS = [
  'auth.signup',
  'auth.login',
  'auth.logout',
  'user.password_changed',
  'user.created',
  'user.role_changed',
  'user.removed',
  'organisation.plan_changed',
  'organisation.plan_key_redeemed',
  'organisation.payment_failed',
  'tenant.created',
  'tenant.updated',
  'tenant.suspended',
  'tenant.resumed',
  'tenant.deleted',
  'api_key.created',
  'api_key.revoked',
  'api_key.rolled',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OBJECT_TYPES = ['organisation', 'user', 'tenant', 'api_key'] as const;
export type AuditObjectType = (typeof AUDIT_OBJECT_TYPES)[number];

export const AUDIT_OUTCOMES = ['success', 'failure'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** A page is at most this many events; a larger `first`/`limit` is served as this. */
export const MAX_AUDIT_PAGE = 100;
export const DEFAULT_AUDIT_PAGE = 20;

const idSchema = z
  .string('must be a string')
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

export const auditFilterSchema = z
  .object({
    action: z.enum(AUDIT_ACTIONS, `must be one of ${AUDIT_ACTIONS.join(', ')}`).nullish(),
    actorId: idSchema.nullish(),
    objectType: z
      .enum(AUDIT_OBJECT_TYPES, `must be one of ${AUDIT_OBJECT_TYPES.join(', ')}`)
      .nullish(),
    objectId: idSchema.nullish(),
    from: z.date('must be a date-time').nullish(),
    to: z.date('must be a date-time').nullish(),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, {
    message: 'must not be after to',
    path: ['from'],
  });
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export const auditPageSchema = z.object({
  first: z.int('must be an integer').min(1, 'must be at least 1').nullish(),
  after: z.string('must be a string').max(200, 'is not a cursor of this list').nullish(),
  // Newest first, forward only: an older page follows `after`.
  last: z.null('only forward paging: use first and after').optional(),
  before: z.null('only forward paging: use first and after').optional(),
});
