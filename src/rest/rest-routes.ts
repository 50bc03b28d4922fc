import { z } from 'zod';
import { authenticateHeader } from '../graphql/context.ts';
import { clientAddress } from '../http/client-address.ts';
import type { Route } from '../http/server.ts';
import type { Deps } from '../lib/deps.ts';
import { UnauthenticatedError } from '../lib/errors.ts';
import { keyRoutes } from '../modules/api-keys/api-keys.rest.ts';
import { auditRoutes } from '../modules/audit/audit.rest.ts';
import { authRoutes } from '../modules/auth/auth.rest.ts';
import { billingRoutes } from '../modules/billing/billing.rest.ts';
import { userRoutes } from '../modules/organisations/users.rest.ts';
import { tenantRoutes } from '../modules/tenants/tenants.rest.ts';
import { dashboardRoutes } from '../modules/usage/usage.rest.ts';
import type { Services } from '../services.ts';
import { buildOpenApi } from './openapi.ts';
import { createRestHandler, defineRoute, type RestRoute } from './rest-router.ts';

/**
 * The guide's REST API and the GraphQL features in the same style, as doors of the node:http
 * server: a parameter-free path is registered exactly, others by the prefix before their first
 * parameter; the REST router does the full matching.
 */
export function restRoutes(
  services: Services,
  { config, clock }: Pick<Deps, 'config' | 'clock'>,
): Route[] {
  const table: RestRoute[] = [
    ...authRoutes(services, config),
    ...tenantRoutes(services, config),
    ...keyRoutes(services, config),
    ...dashboardRoutes(services, clock),
    ...userRoutes(services),
    ...auditRoutes(services),
    ...billingRoutes(services),
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      tag: 'Meta',
      summary: 'This document: OpenAPI 3.1, generated from the schemas that validate requests.',
      auth: false,
      response: z.looseObject({ openapi: z.string() }),
      handle: async () => openapi,
    }),
  ];
  const openapi = buildOpenApi(table);
  const handler = createRestHandler(table, async (req) => {
    const { session, authError } = await authenticateHeader(services, req.headers.authorization);
    if (!session) throw authError ?? new UnauthenticatedError();
    // The session carries the address into the services: audit events record it.
    return { ...session, clientAddress: clientAddress(req, config.trustedProxies) };
  });

  const paths = new Set<string>();
  for (const { path } of table) {
    const param = path.indexOf('{');
    paths.add(param === -1 ? path : path.slice(0, param));
  }
  return [...paths].map((path) => ({ path, door: 'rest', handler }));
}
