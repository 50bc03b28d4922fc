import { useState } from 'react';
import { useQuery } from 'urql';
import { ErrorNotice } from '../../components/Notice.tsx';
import { UsageChart } from '../../components/UsageChart.tsx';
import {
  historyWindow,
  USAGE_RANGES,
  type UsageRange,
  UsageRangePicker,
} from '../../components/UsageRangePicker.tsx';
import { graphql } from '../../graphql.ts';

const TenantHistoryQuery = graphql(`
  query TenantUsageHistory($id: ID!, $from: DateTime!, $to: DateTime!, $step: Int) {
    tenant(id: $id) {
      __typename
      ... on Tenant {
        id
        usageHistory(from: $from, to: $to, step: $step) {
          __typename
          ... on TenantUsageHistorySuccess {
            data {
              at
              activeSeries
              logsGbThisMonth
              tracesGbThisMonth
            }
          }
          ... on ValidationError {
            message
          }
        }
      }
    }
  }
`);

/** The tenant's history, downsampled by the API to a few hundred points whatever the range. */
export function TenantHistory({ tenantId }: { tenantId: string }) {
  const [range, setRange] = useState<UsageRange>('24h');
  const [span, setSpan] = useState(() => historyWindow('24h'));
  const [{ data, error }] = useQuery({
    query: TenantHistoryQuery,
    variables: { id: tenantId, ...span },
  });
  const tenant = data?.tenant.__typename === 'Tenant' ? data.tenant : null;
  const result = tenant?.usageHistory;
  const points = result?.__typename === 'TenantUsageHistorySuccess' ? result.data : null;
  return (
    <div className="tenant-history">
      <div className="usage-history-head">
        <h3>History</h3>
        <UsageRangePicker
          value={range}
          onChange={(next) => {
            setRange(next);
            setSpan(historyWindow(next));
          }}
        />
      </div>
      <ErrorNotice error={error} />
      {result?.__typename === 'ValidationError' && <ErrorNotice error={result.message} />}
      {points ? (
        <UsageChart
          title="Tenant usage"
          points={points}
          from={span.from}
          to={span.to}
          rangePhrase={USAGE_RANGES[range].phrase}
        />
      ) : (
        !error && <p className="muted">Loading history…</p>
      )}
    </div>
  );
}
