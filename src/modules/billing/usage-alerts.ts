import { and, desc, eq } from 'drizzle-orm';
import { Repeater } from 'graphql-yoga';
import { usageAlertState, usageAlerts } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { UnauthenticatedError } from '../../lib/errors.ts';
import type { UsageAlertEvent } from '../../lib/events.ts';
import { reportFailure } from '../../lib/failures.ts';
import { createLiveAuthorization, LAPSED_MESSAGE } from '../auth/live-authorization.ts';
import type { AuthenticatedSession, Session } from '../auth/session.ts';
import { limitUsages, readLimitFigures } from './limit-usage.ts';

/** Percent of a limit at which an alert fires, once per crossing. */
export const ALERT_THRESHOLDS = [80, 100] as const;
/** The newest alerts an organisation is shown. */
export const RECENT_ALERTS = 20;

export type UsageAlert = UsageAlertEvent;

const present = (row: typeof usageAlerts.$inferSelect): UsageAlert => ({
  id: row.id,
  organisationId: row.organisationId,
  limit: row.limitName,
  threshold: row.threshold,
  used: row.used,
  max: row.max,
  at: row.at.toISOString(),
});

/**
 * 80% and 100% alerts. After every usage sync, the instance that ran it (the sync leader, from
 * its own `usage.synced` event) measures each organisation's limits; the others only deliver
 * the alerts. A threshold reached fires once: its state row is inserted with `on conflict do
 * nothing`, so even two evaluations of the same sync (a leader change, a manual run) insert it
 * and record the alert exactly once. The row is deleted when usage falls back under, which
 * re-arms the threshold. The usage sync itself is not touched.
 */
export function createUsageAlerts({ db, clock, events, logger }: Deps) {
  const subscribers = new Set<{
    session: AuthenticatedSession;
    push(a: UsageAlert): unknown;
    stop(e?: Error): void;
  }>();
  let pending: Promise<unknown> = Promise.resolve();

  const stillAuthorized = createLiveAuthorization(db, clock);
  let delivering: Promise<unknown> = Promise.resolve();

  /** As the usage feed: each push re-checks its subscribers, so a logout ends the stream too. */
  const deliver = async (alert: UsageAlert) => {
    const audience = [...subscribers].filter(
      (s) => s.session.organisationId === alert.organisationId,
    );
    if (audience.length === 0) return;
    const authorized = await stillAuthorized(audience.map((s) => s.session));
    for (const s of audience) {
      if (authorized(s.session)) s.push(alert);
      else s.stop(new UnauthenticatedError(LAPSED_MESSAGE));
    }
  };

  events.subscribe('usage.alert', (alert) => {
    // In order, one alert at a time; a lost database skips the push (fail closed), logged.
    delivering = delivering
      .then(() => deliver(alert))
      .catch((err) => reportFailure(logger, err, { during: 'usage alert push' }));
  });

  /**
   * Measures every organisation; returns the alerts it fired. Reads the figures and the current
   * state in two statements; writes only where a threshold was crossed, either way.
   */
  const evaluate = async (at: Date): Promise<UsageAlert[]> => {
    const [figures, state] = await Promise.all([
      readLimitFigures(db),
      db.select().from(usageAlertState),
    ]);
    const reached = new Set(
      state.map((r) => `${r.organisationId}\n${r.limitName}\n${r.threshold}`),
    );
    const fired: UsageAlert[] = [];
    for (const f of figures) {
      for (const usage of limitUsages(f, at)) {
        for (const threshold of ALERT_THRESHOLDS) {
          const above = usage.percent >= threshold;
          if (above === reached.has(`${f.organisationId}\n${usage.limit}\n${threshold}`)) continue;
          const key = { organisationId: f.organisationId, limitName: usage.limit, threshold };
          if (!above) {
            await db
              .delete(usageAlertState)
              .where(
                and(
                  eq(usageAlertState.organisationId, key.organisationId),
                  eq(usageAlertState.limitName, key.limitName),
                  eq(usageAlertState.threshold, threshold),
                ),
              );
            continue;
          }
          const alert = await db.transaction(async (tx) => {
            // Another instance evaluating the same sync may have won: then it fired the alert.
            const [armed] = await tx
              .insert(usageAlertState)
              .values(key)
              .onConflictDoNothing()
              .returning();
            if (!armed) return undefined;
            const [row] = await tx
              .insert(usageAlerts)
              .values({ ...key, used: usage.used, max: usage.max, at })
              .returning();
            return present(row!);
          });
          if (alert) {
            fired.push(alert);
            await events.publish('usage.alert', alert);
          }
        }
      }
    }
    return fired;
  };

  events.subscribeOwn('usage.synced', ({ at }) => {
    pending = pending
      .then(() => evaluate(new Date(at)))
      .catch((err) => reportFailure(logger, err, { during: 'usage alert evaluation' }));
  });

  return {
    evaluate,
    /** Alert streams open on this instance. */
    get subscriberCount() {
      return subscribers.size;
    },
    /** Resolves once the evaluations started so far are done (tests; shutdown). */
    settled: () => pending.then(() => delivering).then(() => undefined),

    async recent(session: Session): Promise<UsageAlert[]> {
      const rows = await db
        .select()
        .from(usageAlerts)
        .where(eq(usageAlerts.organisationId, session.organisationId))
        .orderBy(desc(usageAlerts.at), desc(usageAlerts.id))
        .limit(RECENT_ALERTS);
      return rows.map(present);
    },

    /** Alerts of the caller's organisation as they fire, on this instance. */
    subscribe(session: AuthenticatedSession): Repeater<UsageAlert> {
      return new Repeater<UsageAlert>(async (push, stop) => {
        const subscriber = { session, push, stop: (e?: Error) => stop(e) };
        subscribers.add(subscriber);
        await stop;
        subscribers.delete(subscriber);
      });
    },
  };
}

export type UsageAlerts = ReturnType<typeof createUsageAlerts>;
