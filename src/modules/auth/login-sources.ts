import { and, eq, gt, lte } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { loginSources } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { hashKey } from './attempt-counter.ts';

/** How long a successful login keeps its address exempt from the per-account limit. */
export const KNOWN_SOURCE_DAYS = 30;
const KNOWN_SOURCE_MS = KNOWN_SOURCE_DAYS * 86_400_000;

/**
 * Client addresses (rate-limit subjects) an account has logged in from recently. Keyed by a
 * hash of email and subject, so an unknown email is simply never known, and nothing readable
 * is stored.
 */
export class LoginSources {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async isKnown(email: string, subject: string): Promise<boolean> {
    const since = new Date(this.clock.now().getTime() - KNOWN_SOURCE_MS);
    const [row] = await this.db
      .select({ keyHash: loginSources.keyHash })
      .from(loginSources)
      .where(
        and(eq(loginSources.keyHash, keyOf(email, subject)), gt(loginSources.succeededAt, since)),
      );
    return row !== undefined;
  }

  async remember(email: string, subject: string): Promise<void> {
    const now = this.clock.now();
    await this.db
      .insert(loginSources)
      .values({ keyHash: keyOf(email, subject), succeededAt: now })
      .onConflictDoUpdate({ target: loginSources.keyHash, set: { succeededAt: now } });
    // Forgotten sources go with each success: the table holds one period's worth.
    await this.db
      .delete(loginSources)
      .where(lte(loginSources.succeededAt, new Date(now.getTime() - KNOWN_SOURCE_MS)));
  }
}

const keyOf = (email: string, subject: string) => hashKey(`source\n${email}\n${subject}`);
