import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { TenantRow } from '../../db/schema.ts';
import { formatDateTime } from '../../lib/datetime.ts';
import { PLAN_LIMIT_STATUS } from '../../rest/errors.ts';
import { defineRoute, type RestRoute } from '../../rest/rest-router.ts';
import { timestampResponse } from '../../rest/wire.ts';
import type { Services } from '../../services.ts';
import { hostsOf } from './cells.ts';
import { MAX_TENANTS_LISTED } from './tenant-listing.ts';
import {
  createTenantSchema,
  ENVIRONMENTS,
  tenantFilterSchema,
  updateTenantSchema,
  visibleStatus,
} from './tenants.schemas.ts';

export const tenantResponse = z.object({
  id: z.string().meta({ examples: ['xs_payment_ab3cd4ef'] }),
  display_name: z.string(),
  environment: z.enum(ENVIRONMENTS),
  region: z.string(),
  metrics_host: z.string(),
  logs_host: z.string(),
  traces_host: z.string(),
  created_at: timestampResponse,
  status: z.enum(['active', 'suspended']),
  updated_at: timestampResponse,
});

/** The guide's tenant object (its fields first, in its order), plus status and updated_at. */
export function presentTenant(row: TenantRow, config: Config): z.infer<typeof tenantResponse> {
  const hosts = hostsOf(config.cells, row.cell);
  return {
    id: row.id,
    display_name: row.displayName,
    environment: row.environment,
    region: row.region,
    metrics_host: hosts.metricsHost,
    logs_host: hosts.logsHost,
    traces_host: hosts.tracesHost,
    created_at: formatDateTime(row.createdAt),
    status: visibleStatus(row.status),
    updated_at: formatDateTime(row.updatedAt),
  };
}

const createBody = z.strictObject({
  display_name: createTenantSchema.shape.displayName,
  environment: createTenantSchema.shape.environment,
  region: createTenantSchema.shape.region,
});
const updateBody = z.strictObject({
  display_name: updateTenantSchema.shape.displayName,
  environment: updateTenantSchema.shape.environment,
});
const listQuery = z.strictObject({ environment: tenantFilterSchema.shape.environment });

export function tenantRoutes({ tenants }: Services, config: Config): RestRoute[] {
  const present = (row: TenantRow) => presentTenant(row, config);
  return [
    defineRoute({
      method: 'POST',
      path: '/tenants',
      tag: 'Tenants',
      summary: 'Create a tenant; the ID is generated from the display name.',
      auth: true,
      body: createBody,
      status: 201,
      response: tenantResponse,
      errors: [PLAN_LIMIT_STATUS],
      handle: async ({ session, body }) =>
        present(
          await tenants.create(session, {
            displayName: body.display_name,
            environment: body.environment,
            region: body.region,
          }),
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/tenants',
      tag: 'Tenants',
      summary: `The organisation's live tenants, oldest first: all of them (at most ${MAX_TENANTS_LISTED}, the largest plan's limit).`,
      auth: true,
      query: listQuery,
      response: z.array(tenantResponse),
      handle: async ({ session, query }) => (await tenants.list(session, query)).map(present),
    }),
    defineRoute({
      method: 'GET',
      path: '/tenants/{id}',
      tag: 'Tenants',
      summary: 'One tenant.',
      auth: true,
      response: tenantResponse,
      handle: async ({ session, params }) => present(await tenants.get(session, params.id!)),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/tenants/{id}',
      tag: 'Tenants',
      summary: 'Change the display name and/or environment; the ID never changes.',
      auth: true,
      body: updateBody,
      response: tenantResponse,
      handle: async ({ session, params, body }) =>
        present(
          await tenants.update(session, params.id!, {
            displayName: body.display_name,
            environment: body.environment,
          }),
        ),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/tenants/{id}',
      tag: 'Tenants',
      summary: 'Soft delete: gone from lists, keys stop working, the ID is never reused.',
      auth: true,
      response: z.object({ id: z.string(), deleted_at: timestampResponse }),
      handle: async ({ session, params }) => {
        const row = await tenants.delete(session, params.id!);
        return { id: row.id, deleted_at: formatDateTime(row.deletedAt!) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/tenants/{id}/suspend',
      tag: 'Tenants',
      summary: 'Refuse every key of the tenant until it is resumed.',
      auth: true,
      response: tenantResponse,
      handle: async ({ session, params }) => present(await tenants.suspend(session, params.id!)),
    }),
    defineRoute({
      method: 'POST',
      path: '/tenants/{id}/resume',
      tag: 'Tenants',
      summary: "Accept the tenant's keys again.",
      auth: true,
      response: tenantResponse,
      handle: async ({ session, params }) => present(await tenants.resume(session, params.id!)),
    }),
  ];
}
