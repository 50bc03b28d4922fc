import { afterEach, describe, expect, it } from 'vitest';
import { monthStart, renderMonthToDate, secondsIntoMonth } from '../src/modules/usage/month.ts';

const LOGS = 'sum by (tenant) (increase(loki_distributor_bytes_received_total[$RANGE]))';
const DAY = 86_400;

describe('month-to-date arithmetic (UTC)', () => {
  const tz = process.env.TZ;
  afterEach(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it('rolls over from the last second of December to the first instant of January', () => {
    const lastSecond = new Date('2027-12-31T23:59:59Z');
    expect(secondsIntoMonth(lastSecond)).toBe(31 * DAY - 1);
    expect(renderMonthToDate(LOGS, lastSecond)).toBe(
      `sum by (tenant) (increase(loki_distributor_bytes_received_total[${31 * DAY - 1}s]))`,
    );
    // Sub-second precision is dropped, never rounded up into the next month.
    expect(secondsIntoMonth(new Date('2027-12-31T23:59:59.999Z'))).toBe(31 * DAY - 1);

    const newYear = new Date('2028-01-01T00:00:00Z');
    expect(monthStart(newYear).toISOString()).toBe('2028-01-01T00:00:00.000Z');
    expect(secondsIntoMonth(newYear)).toBe(0);
    // Nothing can have been ingested in a month that is 0 s old: no query at all.
    expect(renderMonthToDate(LOGS, newYear)).toBeUndefined();
    expect(renderMonthToDate(LOGS, new Date('2028-01-01T00:00:00.999Z'))).toBeUndefined();
    expect(renderMonthToDate(LOGS, new Date('2028-01-01T00:00:01Z'))).toContain('[1s]');
  });

  it('counts February 29 in a leap year and starts March on time', () => {
    const leapDay = new Date('2028-02-29T12:00:00Z');
    expect(monthStart(leapDay).toISOString()).toBe('2028-02-01T00:00:00.000Z');
    expect(secondsIntoMonth(leapDay)).toBe(28 * DAY + 12 * 3600);
    expect(secondsIntoMonth(new Date('2028-02-29T23:59:59Z'))).toBe(29 * DAY - 1);
    expect(renderMonthToDate(LOGS, new Date('2028-02-29T23:59:59Z'))).toContain(
      `[${29 * DAY - 1}s]`,
    );
    expect(secondsIntoMonth(new Date('2028-03-01T00:00:00Z'))).toBe(0);
    expect(renderMonthToDate(LOGS, new Date('2028-03-01T00:00:00Z'))).toBeUndefined();
    // A common year's February has 28 days.
    expect(secondsIntoMonth(new Date('2027-03-01T00:00:00Z'))).toBe(0);
    expect(secondsIntoMonth(new Date('2027-02-28T23:59:59Z'))).toBe(28 * DAY - 1);
  });

  it('uses UTC whatever the offset the Date was written with or the local time zone', () => {
    // Still December 31 in New York, but 01:00 on January 1 in UTC.
    const written = new Date('2027-12-31T20:00:00-05:00');
    process.env.TZ = 'America/New_York';
    expect(written.getMonth()).toBe(11); // the local calendar says December
    expect(secondsIntoMonth(written)).toBe(3600);
    expect(monthStart(written).toISOString()).toBe('2028-01-01T00:00:00.000Z');
    expect(renderMonthToDate(LOGS, written)).toContain('[3600s]');

    // Already March 1 in Tokyo, still February 29 in UTC.
    process.env.TZ = 'Asia/Tokyo';
    const tokyo = new Date('2028-03-01T08:00:00+09:00');
    expect(tokyo.getDate()).toBe(1);
    expect(secondsIntoMonth(tokyo)).toBe(29 * DAY - 3600);
  });

  it('leaves templates without $RANGE unchanged, even at the first instant of a month', () => {
    const gauge = 'sum by (user) (cortex_ingester_active_series)';
    expect(renderMonthToDate(gauge, new Date('2028-01-01T00:00:00Z'))).toBe(gauge);
    expect(renderMonthToDate(gauge, new Date('2028-02-29T12:00:00Z'))).toBe(gauge);
  });

  it('replaces every $RANGE in a template', () => {
    const twice =
      'sum by (tenant) (increase(a_total[$RANGE])) + sum by (tenant) (increase(b_total[$RANGE]))';
    expect(renderMonthToDate(twice, new Date('2028-01-01T00:01:00Z'))).toBe(
      'sum by (tenant) (increase(a_total[60s])) + sum by (tenant) (increase(b_total[60s]))',
    );
  });
});
