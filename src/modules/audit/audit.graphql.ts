import { builder } from '../../graphql/builder.ts';
import { sessionOf } from '../../graphql/context.ts';
import {
  AUDIT_ACTIONS,
  AUDIT_OBJECT_TYPES,
  AUDIT_OUTCOMES,
  type AuditAction,
  type AuditObjectType,
  type AuditOutcome,
  DEFAULT_AUDIT_PAGE,
  MAX_AUDIT_PAGE,
} from './audit.schemas.ts';
import type { AuditEventRow } from './audit.service.ts';

// GraphQL names cannot hold a dot: tenant.created is tenant_created.
const AuditActionEnum = builder.enumType('AuditAction', {
  values: Object.fromEntries(
    AUDIT_ACTIONS.map((a) => [a.replace('.', '_'), { value: a, description: a }]),
  ) as Record<string, { value: AuditAction }>,
});
const AuditObjectTypeEnum = builder.enumType('AuditObjectType', { values: AUDIT_OBJECT_TYPES });
const AuditOutcomeEnum = builder.enumType('AuditOutcome', {
  values: AUDIT_OUTCOMES,
  description: 'failure: a login or password change with a wrong password (nothing changed).',
});

const AuditEventRef = builder.objectRef<AuditEventRow>('AuditEvent').implement({
  description: 'One recorded change (or failed credential attempt); never updated.',
  fields: (t) => ({
    id: t.id({ resolve: (e) => String(e.id) }),
    at: t.expose('at', { type: 'DateTime' }),
    action: t.field({ type: AuditActionEnum, resolve: (e) => e.action as AuditAction }),
    outcome: t.field({ type: AuditOutcomeEnum, resolve: (e) => e.outcome as AuditOutcome }),
    actorId: t.id({
      nullable: true,
      description: 'The user who acted; null for a failed login (no one was signed in).',
      resolve: (e) => e.actorId,
    }),
    objectType: t.field({
      type: AuditObjectTypeEnum,
      nullable: true,
      resolve: (e) => e.objectType as AuditObjectType | null,
    }),
    objectId: t.id({ nullable: true, resolve: (e) => e.objectId }),
    sourceAddress: t.string({
      nullable: true,
      description: "The client's address (X-Forwarded-For from a trusted proxy).",
      resolve: (e) => e.sourceAddress,
    }),
  }),
});

builder.queryFields((t) => ({
  auditEvents: t.connection({
    type: AuditEventRef,
    description: `The organisation's audit log, newest first; owners and admins only (FORBIDDEN for viewers). \`first\` defaults to ${DEFAULT_AUDIT_PAGE}; more than ${MAX_AUDIT_PAGE} is served as ${MAX_AUDIT_PAGE}. Forward paging only (\`after\`).`,
    authScopes: { authenticated: true },
    args: {
      action: t.arg({ type: AuditActionEnum }),
      actorId: t.arg.id(),
      objectType: t.arg({ type: AuditObjectTypeEnum }),
      objectId: t.arg.id(),
      from: t.arg({ type: 'DateTime', description: 'Events at or after this time.' }),
      to: t.arg({ type: 'DateTime', description: 'Events at or before this time.' }),
    },
    resolve: async (_root, args, ctx) => {
      const page = await ctx.services.audit.list(
        sessionOf(ctx),
        {
          action: args.action,
          actorId: args.actorId == null ? args.actorId : String(args.actorId),
          objectType: args.objectType,
          objectId: args.objectId == null ? args.objectId : String(args.objectId),
          from: args.from,
          to: args.to,
        },
        { first: args.first, after: args.after, last: args.last, before: args.before },
      );
      const edges = page.events.map((node) => ({ cursor: page.cursorOf(node), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: false,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
}));
