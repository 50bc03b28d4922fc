import { eq } from 'drizzle-orm';
import { organisations } from '../../db/schema.ts';
import type { Tx } from '../../lib/deps.ts';
import type { BillingPlan } from './plans.ts';

/**
 * Locks the organisation row for the rest of the transaction and returns its plan. Every check
 * of a plan limit (count, then insert) runs under this lock, so concurrent requests queue up
 * instead of all seeing room for one more.
 */
export async function lockOrganisationPlan(tx: Tx, organisationId: string): Promise<BillingPlan> {
  const [org] = await tx
    .select({ plan: organisations.billingPlan })
    .from(organisations)
    .where(eq(organisations.id, organisationId))
    .for('update');
  if (!org) throw new Error(`organisation ${organisationId} vanished`);
  return org.plan;
}
