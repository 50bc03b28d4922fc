import { builder } from './builder.ts';
import './scalars.ts';
import './errors.ts';
import '../modules/auth/auth.graphql.ts';
import '../modules/organisations/organisations.graphql.ts';
import '../modules/tenants/tenants.graphql.ts';
import '../modules/api-keys/api-keys.graphql.ts';
import '../modules/usage/usage.graphql.ts';
import '../modules/audit/audit.graphql.ts';
import '../modules/billing/billing.graphql.ts';

/** Built once per process: types are registered by the domain modules imported above. */
export const schema = builder.toSchema();
