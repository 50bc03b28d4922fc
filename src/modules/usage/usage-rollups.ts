import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const HOUR_S = 3600;
export const DAY_S = 86_400;

const bucketOf = (at: Date, seconds: number) =>
  new Date(Math.floor(at.getTime() / (seconds * 1000)) * seconds * 1000).toISOString();

/**
 * Folding one more sample into a bucket: the peak of active series, and the byte counters of
 * the latest sample (month-to-date counters only grow within a month, and restart with it, so
 * the last value is the bucket's figure). Idempotent: folding the same sample twice changes
 * nothing.
 */
const fold = (table: string) =>
  sql.raw(`last_at = greatest(${table}.last_at, excluded.last_at),
    active_series = greatest(${table}.active_series, excluded.active_series),
    logs_bytes_this_month = case when excluded.last_at >= ${table}.last_at
      then excluded.logs_bytes_this_month else ${table}.logs_bytes_this_month end,
    traces_bytes_this_month = case when excluded.last_at >= ${table}.last_at
      then excluded.traces_bytes_this_month else ${table}.traces_bytes_this_month end`);

const COLUMNS = sql.raw(
  'bucket, last_at, active_series, logs_bytes_this_month, traces_bytes_this_month',
);

/**
 * Rolls the tick's samples (already in usage_samples, same transaction) into the hour and the
 * day the tick falls in, per tenant and per organisation: two statements whatever the number
 * of tenants. An organisation's raw sample is the sum over its tenants at that tick, so its
 * roll-ups hold the peak of those sums, not a sum of peaks.
 */
export async function rollUpTick(tx: Tx, at: Date): Promise<void> {
  const when = at.toISOString();
  const hour = bucketOf(at, HOUR_S);
  const day = bucketOf(at, DAY_S);
  await tx.execute(sql`
    with s as (
      select tenant_id, active_series, logs_bytes_this_month, traces_bytes_this_month
      from usage_samples where at = ${when}::timestamptz
    ), h as (
      insert into usage_hourly (tenant_id, ${COLUMNS})
      select tenant_id, ${hour}::timestamptz, ${when}::timestamptz, active_series,
        logs_bytes_this_month, traces_bytes_this_month from s
      on conflict (tenant_id, bucket) do update set ${fold('usage_hourly')}
    )
    insert into usage_daily (tenant_id, ${COLUMNS})
    select tenant_id, ${day}::timestamptz, ${when}::timestamptz, active_series,
      logs_bytes_this_month, traces_bytes_this_month from s
    on conflict (tenant_id, bucket) do update set ${fold('usage_daily')}`);
  await tx.execute(sql`
    with o as (
      insert into usage_org_samples
        (organisation_id, at, active_series, logs_bytes_this_month, traces_bytes_this_month)
      select t.organisation_id, ${when}::timestamptz, sum(s.active_series),
        sum(s.logs_bytes_this_month), sum(s.traces_bytes_this_month)
      from usage_samples s join tenants t on t.id = s.tenant_id
      where s.at = ${when}::timestamptz
      group by t.organisation_id
      on conflict do nothing
      returning organisation_id, active_series, logs_bytes_this_month, traces_bytes_this_month
    ), h as (
      insert into usage_org_hourly (organisation_id, ${COLUMNS})
      select organisation_id, ${hour}::timestamptz, ${when}::timestamptz, active_series,
        logs_bytes_this_month, traces_bytes_this_month from o
      on conflict (organisation_id, bucket) do update set ${fold('usage_org_hourly')}
    )
    insert into usage_org_daily (organisation_id, ${COLUMNS})
    select organisation_id, ${day}::timestamptz, ${when}::timestamptz, active_series,
      logs_bytes_this_month, traces_bytes_this_month from o
    on conflict (organisation_id, bucket) do update set ${fold('usage_org_daily')}`);
}
