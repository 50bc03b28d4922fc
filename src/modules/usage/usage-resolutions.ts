import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Config } from '../../config.ts';
import {
  usageDaily,
  usageHourly,
  usageOrgDaily,
  usageOrgHourly,
  usageOrgSamples,
  usageSamples,
} from '../../db/schema.ts';
import { DAY_S, HOUR_S } from './usage-rollups.ts';

/** Where one resolution's rows are, for a tenant or an organisation. */
export interface HistorySource {
  table: PgTable;
  key: AnyPgColumn;
  /** What a row is grouped by (its time, or its bucket's start) and the time its point shows. */
  bucket: AnyPgColumn;
  stamp: AnyPgColumn;
  activeSeries: AnyPgColumn;
  logsBytesThisMonth: AnyPgColumn;
  tracesBytesThisMonth: AnyPgColumn;
}

export interface Resolution {
  name: 'raw' | 'hour' | 'day';
  /** Bucket length; raw samples have none (one per tick). */
  seconds: number | undefined;
  keepMs: number;
  tenant: HistorySource;
  org: HistorySource;
}

const rawSource = (t: typeof usageSamples | typeof usageOrgSamples, key: AnyPgColumn) => ({
  table: t,
  key,
  bucket: t.at,
  stamp: t.at,
  activeSeries: t.activeSeries,
  logsBytesThisMonth: t.logsBytesThisMonth,
  tracesBytesThisMonth: t.tracesBytesThisMonth,
});

const rollupSource = (t: typeof usageHourly | typeof usageOrgHourly, key: AnyPgColumn) => ({
  table: t,
  key,
  bucket: t.bucket,
  stamp: t.lastAt,
  activeSeries: t.activeSeries,
  logsBytesThisMonth: t.logsBytesThisMonth,
  tracesBytesThisMonth: t.tracesBytesThisMonth,
});

/** Finest first; each kept at least as long as the one before (config.ts checks it). */
export const resolutions = ({ retention }: Config['usage']): Resolution[] => [
  {
    name: 'raw',
    seconds: undefined,
    keepMs: retention.rawHours * HOUR_S * 1000,
    tenant: rawSource(usageSamples, usageSamples.tenantId),
    org: rawSource(usageOrgSamples, usageOrgSamples.organisationId),
  },
  {
    name: 'hour',
    seconds: HOUR_S,
    keepMs: retention.hourlyDays * DAY_S * 1000,
    tenant: rollupSource(usageHourly, usageHourly.tenantId),
    org: rollupSource(usageOrgHourly, usageOrgHourly.organisationId),
  },
  {
    name: 'day',
    seconds: DAY_S,
    keepMs: retention.dailyDays * DAY_S * 1000,
    tenant: rollupSource(usageDaily, usageDaily.tenantId),
    org: rollupSource(usageOrgDaily, usageOrgDaily.organisationId),
  },
];

export interface HistoryPlan {
  resolution: Resolution;
  /** Seconds per point: the step asked, rounded up to whole buckets of a roll-up. */
  step: number;
  /** Range start is rounded down to this (1 ms for raw samples). */
  bucketMs: number;
}

/**
 * The coarsest resolution whose buckets fit in the step; then, while `from` lies before what that
 * resolution still keeps, the next coarser one (an old range gets the points that exist, at the
 * spacing they exist in, rather than nothing). With a roll-up the step becomes a whole number of
 * buckets, so every point sums whole buckets and buckets never straddle two points.
 */
export function planHistoryRead(
  usage: Config['usage'],
  now: Date,
  from: Date,
  step: number,
): HistoryPlan {
  const all = resolutions(usage);
  let i = 0;
  while (i + 1 < all.length && all[i + 1]!.seconds! <= step) i++;
  while (i + 1 < all.length && from.getTime() < now.getTime() - all[i]!.keepMs) i++;
  const resolution = all[i]!;
  const bucket = resolution.seconds;
  return bucket
    ? { resolution, step: Math.ceil(step / bucket) * bucket, bucketMs: bucket * 1000 }
    : { resolution, step, bucketMs: 1 };
}
