import { z } from 'zod';
import { formatDateTime } from '../../lib/datetime.ts';
import { defineRoute, type RestRoute } from '../../rest/rest-router.ts';
import { dateTimeWire, timestampResponse } from '../../rest/wire.ts';
import type { Services } from '../../services.ts';
import {
  AUDIT_ACTIONS,
  AUDIT_OBJECT_TYPES,
  AUDIT_OUTCOMES,
  DEFAULT_AUDIT_PAGE,
  MAX_AUDIT_PAGE,
} from './audit.schemas.ts';
import type { AuditEventRow } from './audit.service.ts';

export const auditEventResponse = z.object({
  id: z.string(),
  at: timestampResponse,
  action: z.enum(AUDIT_ACTIONS),
  outcome: z.enum(AUDIT_OUTCOMES),
  actor_id: z.string().nullable(),
  object_type: z.enum(AUDIT_OBJECT_TYPES).nullable(),
  object_id: z.string().nullable(),
  source_address: z.string().nullable(),
});

const listResponse = z.object({
  events: z.array(auditEventResponse),
  next_cursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next (older) page; null on the last page.' }),
});

const idWire = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

const listQuery = z.strictObject({
  action: z.enum(AUDIT_ACTIONS, `must be one of ${AUDIT_ACTIONS.join(', ')}`).optional(),
  actor_id: idWire.optional(),
  object_type: z
    .enum(AUDIT_OBJECT_TYPES, `must be one of ${AUDIT_OBJECT_TYPES.join(', ')}`)
    .optional(),
  object_id: idWire.optional(),
  from: dateTimeWire.optional(),
  to: dateTimeWire.optional(),
  limit: z.coerce
    .number('must be a number')
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .optional()
    .meta({
      description: `Events per page, default ${DEFAULT_AUDIT_PAGE}; more than ${MAX_AUDIT_PAGE} is served as ${MAX_AUDIT_PAGE}.`,
    }),
  cursor: z.string().optional(),
});

const present = (e: AuditEventRow): z.infer<typeof auditEventResponse> => ({
  id: String(e.id),
  at: formatDateTime(e.at),
  action: e.action as z.infer<typeof auditEventResponse>['action'],
  outcome: e.outcome as z.infer<typeof auditEventResponse>['outcome'],
  actor_id: e.actorId,
  object_type: e.objectType as z.infer<typeof auditEventResponse>['object_type'],
  object_id: e.objectId,
  source_address: e.sourceAddress,
});

export function auditRoutes({ audit }: Services): RestRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/audit-events',
      tag: 'Audit',
      summary:
        "The organisation's audit log, newest first; owners and admins only (403 for viewers). Read-only: no route changes an event.",
      auth: true,
      query: listQuery,
      response: listResponse,
      handle: async ({ session, query }) => {
        const page = await audit.list(
          session,
          {
            action: query.action,
            actorId: query.actor_id,
            objectType: query.object_type,
            objectId: query.object_id,
            from: query.from,
            to: query.to,
          },
          { first: query.limit, after: query.cursor },
          'cursor',
        );
        const last = page.events.at(-1);
        return {
          events: page.events.map(present),
          next_cursor: page.hasNextPage && last ? page.cursorOf(last) : null,
        } satisfies z.infer<typeof listResponse>;
      },
    }),
  ];
}
