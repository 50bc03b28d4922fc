import { defineRelations } from 'drizzle-orm';
import * as schema from './schema.ts';

export const relations = defineRelations(schema, (r) => ({
  organisations: {
    users: r.many.users(),
    tenants: r.many.tenants(),
  },
  users: {
    organisation: r.one.organisations({ from: r.users.organisationId, to: r.organisations.id }),
  },
  tenants: {
    organisation: r.one.organisations({ from: r.tenants.organisationId, to: r.organisations.id }),
    apiKeys: r.many.apiKeys(),
    usage: r.one.usageCurrent({ from: r.tenants.id, to: r.usageCurrent.tenantId }),
  },
  apiKeys: {
    tenant: r.one.tenants({ from: r.apiKeys.tenantId, to: r.tenants.id, optional: false }),
  },
  usageCurrent: {
    tenant: r.one.tenants({ from: r.usageCurrent.tenantId, to: r.tenants.id, optional: false }),
  },
}));
