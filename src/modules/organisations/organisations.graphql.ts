import { builder } from '../../graphql/builder.ts';
import { sessionOf } from '../../graphql/context.ts';
import {
  ConflictError,
  NotFoundError,
  PlanLimitExceededError,
  ValidationError,
} from '../../lib/errors.ts';
import { ROLES } from '../auth/session.ts';
import { BILLING_PLANS, PLAN_LIMITS, type PlanLimits } from './plans.ts';
import { MAX_USERS_PER_ORGANISATION } from './users.service.ts';

export const RoleEnum = builder.enumType('Role', {
  description: 'owner and admin change things; viewer only reads.',
  values: ROLES,
});
export const BillingPlanEnum = builder.enumType('BillingPlan', { values: BILLING_PLANS });

const PlanLimitsRef = builder.objectRef<PlanLimits>('PlanLimits').implement({
  fields: (t) => ({
    maxTenants: t.exposeInt('maxTenants'),
    maxActiveSeries: t.exposeInt('maxActiveSeries'),
    maxApiKeysPerTenant: t.exposeInt('maxApiKeysPerTenant'),
    maxLogsGbPerMonth: t.exposeInt('maxLogsGbPerMonth'),
  }),
});

export const UserRef = builder.drizzleObject('users', {
  name: 'User',
  // Only the columns the query's fields ask for (computed fields declare theirs).
  select: {},
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.expose('role', { type: RoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const OrganisationRef = builder.drizzleObject('organisations', {
  name: 'Organisation',
  // Only the columns the query's fields ask for (computed fields declare theirs).
  select: {},
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    billingPlan: t.expose('billingPlan', { type: BillingPlanEnum }),
    planLimits: t.field({
      type: PlanLimitsRef,
      select: { columns: { billingPlan: true } },
      resolve: (org) => PLAN_LIMITS[org.billingPlan],
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    users: t.relation('users', {
      description: `Oldest first; an organisation has at most ${MAX_USERS_PER_ORGANISATION} users.`,
      query: { orderBy: { createdAt: 'asc', id: 'asc' }, limit: MAX_USERS_PER_ORGANISATION },
    }),
  }),
});

const PlanRef = builder
  .objectRef<{ name: (typeof BILLING_PLANS)[number]; limits: PlanLimits }>('Plan')
  .implement({
    description: 'A billing plan and what it allows; owners move between them with changePlan.',
    fields: (t) => ({
      name: t.field({ type: BillingPlanEnum, resolve: (p) => p.name }),
      limits: t.field({ type: PlanLimitsRef, resolve: (p) => p.limits }),
    }),
  });

builder.queryFields((t) => ({
  plans: t.field({
    type: [PlanRef],
    description: 'Every billing plan with its limits, smallest first.',
    authScopes: { authenticated: true },
    resolve: () => BILLING_PLANS.map((name) => ({ name, limits: PLAN_LIMITS[name] })),
  }),
  me: t.drizzleField({
    type: 'users',
    authScopes: { authenticated: true },
    resolve: async (query, _root, _args, ctx) => {
      const session = sessionOf(ctx);
      const user = await ctx.db.query.users.findFirst(
        query({ where: ctx.services.users.lookupFilter(session, session.userId) }),
      );
      return user ?? (await ctx.services.users.me(session));
    },
  }),
  organisation: t.drizzleField({
    type: 'organisations',
    description: "The caller's organisation.",
    authScopes: { authenticated: true },
    resolve: async (query, _root, _args, ctx) => {
      const session = sessionOf(ctx);
      const org = await ctx.db.query.organisations.findFirst(
        query({ where: { id: session.organisationId } }),
      );
      return org ?? (await ctx.services.organisations.get(session));
    },
  }),
}));

builder.mutationFields((t) => ({
  createUser: t.field({
    type: UserRef,
    description: `Owners and admins add users; only owners add owners. At most ${MAX_USERS_PER_ORGANISATION} users per organisation (ConflictError).`,
    authScopes: { authenticated: true },
    errors: { types: [ValidationError, ConflictError], directResult: true },
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, required: true }),
    },
    resolve: (_root, args, ctx) => ctx.services.users.create(sessionOf(ctx), args),
  }),
  removeUser: t.drizzleField({
    type: 'users',
    description: 'Removes a user; their tokens stop working at once.',
    authScopes: { authenticated: true },
    errors: { types: [NotFoundError, ValidationError], directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const session = sessionOf(ctx);
      const id = String(args.id);
      // The answer is read before the row is gone: a User returned without the planned query
      // is re-read by primary key, which fails once the user is deleted.
      const before = await ctx.db.query.users.findFirst(
        query({ where: ctx.services.users.lookupFilter(session, id) }),
      );
      const removed = await ctx.services.users.remove(session, id);
      return before ?? removed;
    },
  }),
  updateUserRole: t.drizzleField({
    type: 'users',
    description:
      'Owners and admins change roles; only owners grant or take the owner role, and the last owner stays one.',
    authScopes: { authenticated: true },
    errors: { types: [NotFoundError, ValidationError], directResult: true },
    args: { id: t.arg.id({ required: true }), role: t.arg({ type: RoleEnum, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const session = sessionOf(ctx);
      const updated = await ctx.services.users.updateRole(session, String(args.id), args);
      const user = await ctx.db.query.users.findFirst(
        query({ where: ctx.services.users.lookupFilter(session, updated.id) }),
      );
      return user ?? updated;
    },
  }),
  changePlan: t.field({
    type: OrganisationRef,
    description:
      'Owners only, when Stripe billing is off (else ConflictError). Downgrading requires the tenants to fit the new plan.',
    authScopes: { authenticated: true },
    errors: { types: [ValidationError, PlanLimitExceededError, ConflictError], directResult: true },
    args: { plan: t.arg({ type: BillingPlanEnum, required: true }) },
    resolve: (_root, args, ctx) => ctx.services.organisations.changePlan(sessionOf(ctx), args),
  }),
}));
