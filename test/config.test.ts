import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('refuses a DEFAULT_REGION that no cell of CELLS_FILE serves, naming the regions there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cells-'));
    const file = join(dir, 'cells.json');
    writeFileSync(
      file,
      JSON.stringify([
        { region: 'us-east-1', cell: 'use1-01', metricsHost: 'm', logsHost: 'l', tracesHost: 't' },
      ]),
    );
    expect(() => loadConfig({ CELLS_FILE: file })).toThrow(
      'DEFAULT_REGION: "eu-west-1" has no cell in CELLS_FILE (regions there: us-east-1)',
    );
    expect(loadConfig({ CELLS_FILE: file, DEFAULT_REGION: 'us-east-1' }).defaultRegion).toBe(
      'us-east-1',
    );
  });

  it('uses the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: undefined,
      pgliteDir: './.data/pglite',
      workers: 1,
      keyCache: { ttlSeconds: 15 },
      usage: {
        intervalSeconds: 60,
        prometheusUrl: undefined,
        retention: { rawHours: 26, hourlyDays: 40, dailyDays: 400 },
        prune: { batchRows: 10_000, maxBatches: 20 },
      },
    });
    expect(config.cells[0]).toMatchObject({
      region: 'eu-west-1',
      metricsHost: 'euw1-01.m.xscalerlabs.com',
    });
  });

  it.each([
    [{ KEY_CACHE_TTL_S: '16' }, /KEY_CACHE_TTL_S must be at most 15/],
    [{ NODE_ENV: 'production' }, /JWT_SECRET: required when NODE_ENV=production/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32 characters/],
    [{ USAGE_SYNC_INTERVAL_S: '0' }, /USAGE_SYNC_INTERVAL_S/],
    [{ USAGE_SYNC_INTERVAL_S: '9999999' }, /USAGE_SYNC_INTERVAL_S/],
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL/],
    [{ PORT: '70000' }, /PORT/],
    [{ CELLS_FILE: '/nonexistent/cells.json' }, /CELLS_FILE/],
    [{ WORKERS: '0' }, /WORKERS must be auto or a whole number from 1 to 99/],
    [{ WORKERS: 'two' }, /WORKERS must be auto or a whole number from 1 to 99/],
    [{ WORKERS: '2' }, /WORKERS: 2 processes need DATABASE_URL/],
    [{ USAGE_HISTORY_DAYS: '35' }, /USAGE_HISTORY_DAYS: replaced by USAGE_RAW_RETENTION_HOURS/],
    [{ USAGE_RAW_RETENTION_HOURS: '0' }, /USAGE_RAW_RETENTION_HOURS/],
    [
      { USAGE_RAW_RETENTION_HOURS: '49', USAGE_HOURLY_RETENTION_DAYS: '2' },
      /USAGE_HOURLY_RETENTION_DAYS: 2 days is shorter than USAGE_RAW_RETENTION_HOURS \(49 h\)/,
    ],
    [
      { USAGE_DAILY_RETENTION_DAYS: '30' },
      /USAGE_DAILY_RETENTION_DAYS: 30 days is shorter than USAGE_HOURLY_RETENTION_DAYS \(40 days\)/,
    ],
    [{ USAGE_PRUNE_BATCH_ROWS: '0' }, /USAGE_PRUNE_BATCH_ROWS/],
    [{ USAGE_PRUNE_MAX_BATCHES: 'many' }, /USAGE_PRUNE_MAX_BATCHES/],
  ])('refuses %o with a message naming it', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('runs WORKERS processes on PostgreSQL, one per core with auto', () => {
    const databaseUrl = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };
    expect(loadConfig({ ...databaseUrl, WORKERS: '3' }).workers).toBe(3);
    expect(loadConfig({ ...databaseUrl, WORKERS: 'auto' }).workers).toBe(availableParallelism());
  });
});
