import type { Deps } from '../../lib/deps.ts';
import { NotFoundError, UnauthenticatedError } from '../../lib/errors.ts';
import { reportFailure } from '../../lib/failures.ts';
import { markLiveStage } from '../../lib/live-stages.ts';
import { createLiveStream, type LiveStream } from '../../lib/live-stream.ts';
import type { SubscriberTransport } from '../../lib/metrics.ts';
import { createLiveAuthorization, LAPSED_MESSAGE } from '../auth/live-authorization.ts';
import type { AuthenticatedSession } from '../auth/session.ts';
import type { OrgUsage, TenantUsage, UsageService } from './usage.service.ts';

interface Subscriber<T> {
  session: AuthenticatedSession;
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
          set.add(subscriber);
          metrics.live.subscribed(transport);
        },
        end() {
          set.delete(subscriber);
          metrics.live.unsubscribed(transport);
        },
      }),
    };
    return subscriber.stream.iterator;
  };

  const stillAuthorized = createLiveAuthorization(db, clock);

  const fanOut = async () => {
    const orgs = [...orgSubscribers];
    const tenants = [...tenantSubscribers];
    if (orgs.length + tenants.length === 0) return;
    markLiveStage('feed-event');
    const [authorized, summaries, tenantUsages] = await Promise.all([
      stillAuthorized([...orgs, ...tenants].map((s) => s.session)),
      usage.summariesFor([...new Set(orgs.map((s) => s.session.organisationId))]),
      usage.tenantUsagesFor([...new Set(tenants.map((s) => s.tenantId!))]),
    ]);
    markLiveStage('feed-read');
    const expired = new UnauthenticatedError(LAPSED_MESSAGE);
    for (const sub of orgs) {
      if (!authorized(sub.session)) sub.stream.end(expired);
      else {
        const summary = summaries.get(sub.session.organisationId);
        if (summary) sub.stream.push(summary);
      }
    }
    for (const sub of tenants) {
      if (!authorized(sub.session)) sub.stream.end(expired);
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
