import { eq } from 'drizzle-orm';
import { type OrganisationRow, organisations } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { ConflictError, PlanLimitExceededError } from '../../lib/errors.ts';
import { parseInput } from '../../lib/validation.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { requireOwner, type Session } from '../auth/session.ts';
import { countLiveTenants } from '../tenants/tenants.service.ts';
import { changePlanSchema } from './organisations.schemas.ts';
import { lockOrganisationPlan } from './plan-lock.ts';
import { PLAN_LIMITS } from './plans.ts';

export type OrganisationsService = ReturnType<typeof createOrganisationsService>;

export function createOrganisationsService({ db, clock, config }: Deps) {
  return {
    async get(session: Session): Promise<OrganisationRow> {
      const [org] = await db
        .select()
        .from(organisations)
        .where(eq(organisations.id, session.organisationId));
      return org!;
    },

    /**
     * Owners only, and only without Stripe billing (then Stripe's events move the plan). A
     * downgrade must fit the new plan's tenant limit.
     */
    async changePlan(session: Session, input: unknown): Promise<OrganisationRow> {
      requireOwner(session);
      const { plan } = parseInput(changePlanSchema, input);
      if (config.billing.stripe) {
        throw new ConflictError(
          'Plans are managed by Stripe on this server: upgrade with startCheckout (POST /billing/checkout) and change or cancel in the billing portal',
        );
      }
      const org = await db.transaction(async (tx) => {
        // Same row lock as tenant creation: the count cannot change under us.
        await lockOrganisationPlan(tx, session.organisationId);
        const max = PLAN_LIMITS[plan].maxTenants;
        if ((await countLiveTenants(tx, session.organisationId)) > max) {
          throw new PlanLimitExceededError(plan, 'tenants', max);
        }
        const [row] = await tx
          .update(organisations)
          .set({ billingPlan: plan })
          .where(eq(organisations.id, session.organisationId))
          .returning();
        const object = { type: 'organisation', id: session.organisationId } as const;
        await recordAudit(tx, session, 'organisation.plan_changed', object, clock.now());
        return row!;
      });
      return org;
    },
  };
}
