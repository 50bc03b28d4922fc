import { and, count, eq, ne } from 'drizzle-orm';
import { type OrganisationRow, organisations, tenants } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { PlanLimitExceededError } from '../../lib/errors.ts';
import { parseInput } from '../../lib/validation.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { requireOwner, type Session } from '../auth/session.ts';
import { changePlanSchema } from './organisations.schemas.ts';
import { PLAN_LIMITS } from './plans.ts';

export type OrganisationsService = ReturnType<typeof createOrganisationsService>;

export function createOrganisationsService({ db }: Deps) {
  return {
    async get(session: Session): Promise<OrganisationRow> {
      const [org] = await db
        .select()
        .from(organisations)
        .where(eq(organisations.id, session.organisationId));
      return org!;
    },

    /** Owners only. A downgrade must fit the new plan's tenant limit. */
    async changePlan(session: Session, input: unknown): Promise<OrganisationRow> {
      requireOwner(session);
      const { plan } = parseInput(changePlanSchema, input);
      const org = await db.transaction(async (tx) => {
        // Same row lock as tenant creation: the count cannot change under us.
        await tx
          .select({ id: organisations.id })
          .from(organisations)
          .where(eq(organisations.id, session.organisationId))
          .for('update');
        const [live] = await tx
          .select({ n: count() })
          .from(tenants)
          .where(
            and(eq(tenants.organisationId, session.organisationId), ne(tenants.status, 'deleted')),
          );
        const max = PLAN_LIMITS[plan].maxTenants;
        if ((live?.n ?? 0) > max) throw new PlanLimitExceededError(plan, 'tenants', max);
        const [row] = await tx
          .update(organisations)
          .set({ billingPlan: plan })
          .where(eq(organisations.id, session.organisationId))
          .returning();
        return row!;
      });
      await recordAudit(db, session, 'organisation.plan_changed', plan);
      return org;
    },
  };
}
