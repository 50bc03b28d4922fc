import { z } from 'zod';
import type { OrganisationRow, UserRow } from '../../db/schema.ts';
import { formatDateTime } from '../../lib/datetime.ts';
import { PLAN_LIMIT_STATUS } from '../../rest/errors.ts';
import { defineRoute, type RestRoute } from '../../rest/rest-router.ts';
import { timestampResponse } from '../../rest/wire.ts';
import type { Services } from '../../services.ts';
import { createUserSchema } from '../auth/auth.schemas.ts';
import { ROLES } from '../auth/session.ts';
import { changePlanSchema } from './organisations.schemas.ts';
import { BILLING_PLANS, PLAN_LIMITS } from './plans.ts';
import { MAX_USERS_PER_ORGANISATION } from './users.service.ts';

export const userResponse = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(ROLES as [string, ...string[]]),
  created_at: timestampResponse,
});

export const presentUser = (u: UserRow): z.infer<typeof userResponse> => ({
  id: u.id,
  email: u.email,
  role: u.role,
  created_at: formatDateTime(u.createdAt),
});

export const organisationResponse = z.object({
  id: z.string(),
  name: z.string(),
  billing_plan: z.enum(BILLING_PLANS as [string, ...string[]]),
  plan_limits: z.object({
    max_tenants: z.number(),
    max_active_series: z.number(),
    max_api_keys_per_tenant: z.number(),
    max_logs_gb_per_month: z.number(),
  }),
  created_at: timestampResponse,
});

export function presentOrganisation(org: OrganisationRow): z.infer<typeof organisationResponse> {
  const limits = PLAN_LIMITS[org.billingPlan];
  return {
    id: org.id,
    name: org.name,
    billing_plan: org.billingPlan,
    plan_limits: {
      max_tenants: limits.maxTenants,
      max_active_series: limits.maxActiveSeries,
      max_api_keys_per_tenant: limits.maxApiKeysPerTenant,
      max_logs_gb_per_month: limits.maxLogsGbPerMonth,
    },
    created_at: formatDateTime(org.createdAt),
  };
}

const createUserBody = z.strictObject({
  email: createUserSchema.shape.email,
  password: createUserSchema.shape.password,
  role: createUserSchema.shape.role,
});
const planBody = z.strictObject({ plan: changePlanSchema.shape.plan });

export function userRoutes({ users, organisations }: Services): RestRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/users',
      tag: 'Users',
      summary: `The organisation's users, oldest first (at most ${MAX_USERS_PER_ORGANISATION}: the most an organisation may have).`,
      auth: true,
      response: z.array(userResponse),
      handle: async ({ session }) => (await users.list(session)).map(presentUser),
    }),
    defineRoute({
      method: 'POST',
      path: '/users',
      tag: 'Users',
      summary: `Add a user (owners and admins; only owners add owners); 409 past ${MAX_USERS_PER_ORGANISATION} users.`,
      auth: true,
      body: createUserBody,
      status: 201,
      response: userResponse,
      errors: [409],
      handle: async ({ session, body }) => presentUser(await users.create(session, body)),
    }),
    defineRoute({
      method: 'GET',
      path: '/users/me',
      tag: 'Users',
      summary: 'The calling user.',
      auth: true,
      response: userResponse,
      handle: async ({ session }) => presentUser(await users.me(session)),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/users/{id}',
      tag: 'Users',
      summary: 'Remove a user; their tokens stop working at once.',
      auth: true,
      response: userResponse,
      handle: async ({ session, params }) => presentUser(await users.remove(session, params.id!)),
    }),
    defineRoute({
      method: 'GET',
      path: '/organisation',
      tag: 'Organisation',
      summary: "The caller's organisation, its plan and the plan's limits.",
      auth: true,
      response: organisationResponse,
      handle: async ({ session }) => presentOrganisation(await organisations.get(session)),
    }),
    defineRoute({
      method: 'PUT',
      path: '/organisation/plan',
      tag: 'Organisation',
      summary: 'Change the billing plan (owners only); a downgrade must fit the new limits.',
      auth: true,
      body: planBody,
      response: organisationResponse,
      errors: [PLAN_LIMIT_STATUS],
      handle: async ({ session, body }) =>
        presentOrganisation(await organisations.changePlan(session, body)),
    }),
  ];
}
