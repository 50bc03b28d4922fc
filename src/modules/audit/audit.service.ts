import type { Db } from '../../db/client.ts';
import { auditEvents } from '../../db/schema.ts';
import type { Tx } from '../../lib/deps.ts';
import type { Session } from '../auth/session.ts';

/** Appends one audit record of a change made by a signed-in user. */
export async function recordAudit(
  db: Db | Tx,
  session: Session,
  action: string,
  target: string,
  outcome = 'success',
): Promise<void> {
  await db.insert(auditEvents).values({
    organisationId: session.organisationId,
    actorId: session.userId,
    action,
    target,
    outcome,
  });
}
