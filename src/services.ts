import type { Deps } from './lib/deps.ts';
import { createApiKeysService } from './modules/api-keys/api-keys.service.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import { createAuthService } from './modules/auth/auth.service.ts';
import type { TokenSettings } from './modules/auth/tokens.ts';
import { createBillingService } from './modules/billing/billing.service.ts';
import { createStripeClient } from './modules/billing/stripe-client.ts';
import { createUsageAlerts } from './modules/billing/usage-alerts.ts';
import { createOrganisationsService } from './modules/organisations/organisations.service.ts';
import { createUsersService } from './modules/organisations/users.service.ts';
import { createTenantsService } from './modules/tenants/tenants.service.ts';
import { createUsageService } from './modules/usage/usage.service.ts';
import { createUsageFeed } from './modules/usage/usage-feed.ts';
import { createVerifyService } from './modules/verify/verify.service.ts';

/** Every door (GraphQL, REST, verify, jobs) calls these; rules and authorization live here. */
export function createServices(deps: Deps, tokenSettings: TokenSettings) {
  const tenants = createTenantsService(deps);
  const usage = createUsageService(deps, tenants);
  return {
    auth: createAuthService(deps, tokenSettings),
    users: createUsersService(deps),
    organisations: createOrganisationsService(deps),
    tenants,
    apiKeys: createApiKeysService(deps, tenants),
    verify: createVerifyService(deps),
    audit: createAuditService(deps),
    usage,
    usageFeed: createUsageFeed(deps, usage),
    billing: createBillingService(
      deps,
      deps.config.billing.stripe ? createStripeClient(deps.config.billing.stripe) : undefined,
    ),
    usageAlerts: createUsageAlerts(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
