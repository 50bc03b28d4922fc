import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('uses the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: undefined,
      pgliteDir: './.data/pglite',
      keyCache: { ttlSeconds: 15 },
      usage: { intervalSeconds: 60, prometheusUrl: undefined },
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
  ])('refuses %o with a message naming it', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
