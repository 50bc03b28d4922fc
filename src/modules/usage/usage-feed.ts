import type { Deps } from '../../lib/deps.ts';
import { NotFoundError, UnauthenticatedError } from '../../lib/errors.ts';
import { reportFailure } from '../../lib/failures.ts';
import { markLiveStage } from '../../lib/live-stages.ts';
import { createLiveStream, type LiveStream } from '../../lib/live-stream.ts';
import type { SubscriberTransport } from '../../lib/metrics.ts';
import {
  createLiveSessions,
  LAPSED_MESSAGE,
  type LiveSession,
} from '../auth/live-authorization.ts';
import type { AuthenticatedSession } from '../auth/session.ts';
import type { OrgUsage, TenantUsage, UsageService } from './usage.service.ts';

interface Subscriber<T> {
  session: AuthenticatedSession;
  /** Its token's group in the re-check, while it is registered. */
  live?: LiveSession;
  tenantId?: string;
  stream: LiveStream<T>;
}

/**
 * Live usage for dashboards on this instance. After each `usage.synced` event (from whichever
 * instance synced) it reads what its subscribers need in a few batched statements, checks each
 * subscriber is still authorized, and pushes. Cost per event does not grow with queries per
 * subscriber: 10,000 subscribers of one organisation cost the same reads as one.
 */
export function createUsageFeed({ db, clock, events, logger, metrics }: Deps, usage: UsageService) {
  const orgSubscribers = new Set<Subscriber<OrgUsage>>();
  const tenantSubscribers = new Set<Subscriber<TenantUsage>>();

  /** Registered while its client reads: from the first `next()` until either side ends it. */
  const subscribe = <T>(
    set: Set<Subscriber<T>>,
    session: AuthenticatedSession,
    transport: SubscriberTransport,
    tenantId?: string,
  ): AsyncIterableIterator<T> => {
    const subscriber: Subscriber<T> = {
      session,
      tenantId,
      stream: createLiveStream<T>({
        start() {
          subscriber.live = liveSessions.add(session);
          set.add(subscriber);
          metrics.live.subscribed(transport);
        },
        end() {
          if (subscriber.live) liveSessions.remove(subscriber.live);
          subscriber.live = undefined;
          set.delete(subscriber);
          metrics.live.unsubscribed(transport);
        },
      }),
    };
    return subscriber.stream.iterator;
  };

  const liveSessions = createLiveSessions(db, clock);

  const fanOut = async () => {
    if (orgSubscribers.size + tenantSubscribers.size === 0) return;
    markLiveStage('feed-event');
    // Who is pushed to is fixed here: one who subscribes during the reads gets the next sync.
    const orgs = [...orgSubscribers];
    const tenants = [...tenantSubscribers];
    const organisationIds = new Set<string>();
    for (const sub of orgs) organisationIds.add(sub.session.organisationId);
    const tenantIds = new Set<string>();
    for (const sub of tenants) tenantIds.add(sub.tenantId!);
    const [, summaries, tenantUsages] = await Promise.all([
      liveSessions.recheck(),
      usage.summariesFor([...organisationIds]),
      usage.tenantUsagesFor([...tenantIds]),
    ]);
    markLiveStage('feed-read');
    const expired = new UnauthenticatedError(LAPSED_MESSAGE);
    for (const sub of orgs) {
      // No group: it ended during the reads.
      if (!sub.live) continue;
      if (!sub.live.authorized) sub.stream.end(expired);
      else {
        const summary = summaries.get(sub.session.organisationId);
        if (summary) sub.stream.push(summary);
      }
    }
    for (const sub of tenants) {
      if (!sub.live) continue;
      if (!sub.live.authorized) sub.stream.end(expired);
      else {
        const value = tenantUsages.get(sub.tenantId!);
        if (value) sub.stream.push(value);
        else sub.stream.end(new NotFoundError('Tenant', sub.tenantId!));
      }
    }
    markLiveStage('feed-pushed');
  };

  let unsubscribe: (() => void) | undefined;
  return {
    subscribeOrg: (session: AuthenticatedSession, transport: SubscriberTransport) =>
      subscribe(orgSubscribers, session, transport),
    subscribeTenant: (
      session: AuthenticatedSession,
      tenantId: string,
      transport: SubscriberTransport,
    ) => subscribe(tenantSubscribers, session, transport, tenantId),
    get subscriberCount() {
      return orgSubscribers.size + tenantSubscribers.size;
    },
    start(): void {
      unsubscribe = events.subscribe('usage.synced', () => {
        // A lost database is a warning; logged without query parameters either way.
        fanOut().catch((err) => reportFailure(logger, err, { during: 'usage fan-out' }));
      });
    },
    stop(): void {
      unsubscribe?.();
      for (const sub of [...orgSubscribers, ...tenantSubscribers]) sub.stream.end();
    },
  };
}

export type UsageFeed = ReturnType<typeof createUsageFeed>;
