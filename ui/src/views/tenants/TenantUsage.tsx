import { useEffect, useState } from 'react';
import { useSubscription } from 'urql';
import {
  formatDateTime,
  formatGb,
  formatInteger,
  formatRelative,
} from '../../components/format.ts';
import { graphql } from '../../graphql.ts';
import { TenantHistory } from './TenantHistory.tsx';

const TenantUsageSubscription = graphql(`
  subscription TenantUsageUpdated($tenantId: ID!) {
    tenantUsageUpdated(tenantId: $tenantId) {
      activeSeries
      logsGbThisMonth
      tracesGbThisMonth
      syncedAt
    }
  }
`);

interface Usage {
  activeSeries: number;
  logsGbThisMonth: number;
  tracesGbThisMonth: number;
  syncedAt: string | null;
}

/** This tenant's figures, pushed after every usage sync over the page's one WebSocket. */
export function TenantUsage({ tenantId, usage }: { tenantId: string; usage: Usage }) {
  const [{ data }] = useSubscription({ query: TenantUsageSubscription, variables: { tenantId } });
  const current = data?.tenantUsageUpdated ?? usage;
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 15_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <section aria-labelledby="tenant-usage-title" className="panel">
      <h2 id="tenant-usage-title">Usage</h2>
      <dl className="figures">
        <div>
          <dt>Active series</dt>
          <dd data-testid="tenant-usage-active-series">{formatInteger(current.activeSeries)}</dd>
        </div>
        <div>
          <dt>Logs this month</dt>
          <dd>{formatGb(current.logsGbThisMonth)}</dd>
        </div>
        <div>
          <dt>Traces this month</dt>
          <dd>{formatGb(current.tracesGbThisMonth)}</dd>
        </div>
        <div>
          <dt>Last sync</dt>
          <dd title={formatDateTime(current.syncedAt)}>{formatRelative(current.syncedAt)}</dd>
        </div>
      </dl>
      <TenantHistory tenantId={tenantId} />
    </section>
  );
}
