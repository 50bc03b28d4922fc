import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { EventBus } from '../src/lib/events.ts';
import { cryptoRandom } from '../src/lib/ids.ts';
import { createLogger } from '../src/lib/logger.ts';
import { generateApiKey } from '../src/modules/api-keys/key-format.ts';
import { startTestServer, testEnv, useTestServer } from './helpers/app.ts';
import { engine } from './helpers/database.ts';
import { createApiKey, createTenant, PASSWORD, signupOrg } from './helpers/factories.ts';
import { basic, bearer, verifyRequest } from './helpers/http.ts';
import { PROMTOOL, promtool, samplesOf, scrape, total } from './helpers/metrics.ts';
import { subscribeSse, subscribeWs } from './helpers/subscriptions.ts';

const clock = new ManualClock(new Date());
const server = useTestServer({ overrides: { clock } });

const VERIFY = 'xscaler_portal_verify_requests_total';
const REQUESTS = 'xscaler_portal_http_requests_total';

describe('GET /metrics', () => {
  it('serves the text format without a token, process and Node.js metrics included', async () => {
    const res = await fetch(`${server().url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'xscaler_portal_http_requests_total',
      'xscaler_portal_verify_key_cache_entries',
      'xscaler_portal_usage_sync_seconds_since_last_success',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    // An invalid token changes nothing: /metrics is never behind a JWT.
    const withBadToken = await fetch(`${server().url}/metrics`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(withBadToken.status).toBe(200);
    expect((await fetch(`${server().url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it.skipIf(!existsSync(PROMTOOL))('passes promtool check metrics', async () => {
    await fetch(`${server().url}/healthz`);
    const { text } = await scrape(server().url);
    const check = promtool(['check', 'metrics'], text);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
    // The check can fail: a gauge named like a counter is refused.
    const bad = promtool(
      ['check', 'metrics'],
      '# HELP x_total a\n# TYPE x_total gauge\nx_total 1\n',
    );
    expect(bad.status).not.toBe(0);
  });

  it('labels requests by route template: many tenant IDs make one series', async () => {
    const ids = Array.from({ length: 25 }, () => `t_${randomBytes(6).toString('hex')}`);
    for (const id of ids) await fetch(`${server().url}/tenants/${id}`);
    for (const id of ids.slice(0, 5)) await fetch(`${server().url}/no-such-${id}`);
    const { text, samples } = await scrape(server().url);
    for (const id of ids) expect(text).not.toContain(id);
    const tenantSeries = samplesOf(samples, REQUESTS, { route: '/tenants/{id}' });
    expect(tenantSeries).toEqual([
      {
        name: REQUESTS,
        labels: { door: 'rest', route: '/tenants/{id}', method: 'GET', status: '401' },
        value: 25,
      },
    ]);
    expect(samplesOf(samples, REQUESTS, { route: 'unmatched', status: '404' })).toHaveLength(1);
    expect(total(samples, REQUESTS, { route: 'unmatched' })).toBeGreaterThanOrEqual(5);
    // The histogram has the same labels but the status.
    expect(
      total(samples, 'xscaler_portal_http_request_duration_seconds_count', {
        door: 'rest',
        route: '/tenants/{id}',
        method: 'GET',
      }),
    ).toBe(25);
    // Doors: GraphQL, health, verify each have their own label.
    await server().gql('{ __typename }');
    const after = (await scrape(server().url)).samples;
    expect(total(after, REQUESTS, { door: 'graphql', route: '/graphql' })).toBeGreaterThan(0);
    expect(total(after, REQUESTS, { door: 'health', route: '/healthz' })).toBeGreaterThan(0);
    expect(total(after, REQUESTS, { door: 'metrics', route: '/metrics' })).toBeGreaterThan(0);
  });

  it('counts /auth/verify answers by outcome, and key-cache hits and misses', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const other = await createTenant(server(), org.token, { displayName: 'Other' });
    const logsOnly = await createApiKey(server(), org.token, tenant.id, { scopes: ['logs:write'] });
    const revoked = await createApiKey(server(), org.token, tenant.id);
    const expiring = await createApiKey(server(), org.token, tenant.id, {
      expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(),
    });
    const ofSuspended = await createApiKey(server(), org.token, other.id);
    const good = await createApiKey(server(), org.token, tenant.id);
    await server().gql(
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: revoked.id },
      org.token,
    );
    await server().gql(
      'mutation($id: ID!) { suspendTenant(id: $id) { __typename } }',
      { id: other.id },
      org.token,
    );
    const before = (await scrape(server().url)).samples;
    const url = server().url;

    expect((await verifyRequest(url, bearer(good.key))).status).toBe(200);
    expect((await verifyRequest(url, bearer(good.key))).status).toBe(200); // from the cache
    expect((await verifyRequest(url, undefined)).status).toBe(401);
    expect((await verifyRequest(url, bearer('xs_not-a-key'))).status).toBe(401);
    expect((await verifyRequest(url, bearer(generateApiKey(cryptoRandom)))).status).toBe(401);
    expect((await verifyRequest(url, bearer(revoked.key))).status).toBe(401);
    expect((await verifyRequest(url, bearer(ofSuspended.key))).status).toBe(401);
    expect((await verifyRequest(url, basic(other.id, good.key))).status).toBe(401);
    expect((await verifyRequest(url, bearer(logsOnly.key))).status).toBe(403);
    expect((await verifyRequest(url, bearer(good.key), '')).status).toBe(400);
    // A refusal answered from the cache keeps its cause.
    expect((await verifyRequest(url, bearer(revoked.key))).status).toBe(401);
    expect((await verifyRequest(url, bearer(expiring.key))).status).toBe(200);
    clock.advance(61_000); // past the expiry, and the cache's TTL: looked up again
    expect((await verifyRequest(url, bearer(expiring.key))).status).toBe(401);

    const after = (await scrape(url)).samples;
    const delta = (outcome: string) =>
      total(after, VERIFY, { outcome }) - total(before, VERIFY, { outcome });
    expect({
      ok: delta('ok'),
      missing_credentials: delta('missing_credentials'),
      malformed: delta('malformed'),
      unknown: delta('unknown'),
      revoked: delta('revoked'),
      suspended: delta('suspended'),
      wrong_tenant: delta('wrong_tenant'),
      missing_scope: delta('missing_scope'),
      bad_request: delta('bad_request'),
      expired: delta('expired'),
    }).toEqual({
      ok: 3,
      missing_credentials: 1,
      malformed: 1,
      unknown: 1,
      revoked: 2,
      suspended: 1,
      wrong_tenant: 1,
      missing_scope: 1,
      bad_request: 1,
      expired: 1,
    });
    // Every outcome is present from the start (0 until it happens), throttled included.
    expect(samplesOf(after, VERIFY, { outcome: 'throttled' })).toHaveLength(1);
    const cache = (result: string) =>
      total(after, 'xscaler_portal_verify_key_cache_requests_total', { result }) -
      total(before, 'xscaler_portal_verify_key_cache_requests_total', { result });
    // Well-formed keys reach the cache: good (miss, hit), unknown, revoked (miss, hit),
    // suspended, wrong tenant (hit: good is cached), logs-only, expiring (miss, miss after TTL).
    expect(cache('hit') + cache('miss')).toBe(10);
    expect(cache('hit')).toBe(3);
    expect(total(after, 'xscaler_portal_verify_key_cache_entries')).toBeGreaterThanOrEqual(5);
  });

  it('counts logins by outcome', async () => {
    const org = await signupOrg(server());
    const login = (password: string) =>
      server().gql(
        'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }',
        { e: org.email, p: password },
      );
    const before = (await scrape(server().url)).samples;
    await login(PASSWORD);
    await login('Wrong-Password-1');
    await login('Wrong-Password-2');
    const after = (await scrape(server().url)).samples;
    const delta = (outcome: string) =>
      total(after, 'xscaler_portal_login_attempts_total', { outcome }) -
      total(before, 'xscaler_portal_login_attempts_total', { outcome });
    expect([delta('ok'), delta('invalid_credentials'), delta('throttled')]).toEqual([1, 2, 0]);
    // Past the per-email limit, attempts are refused before any password check.
    for (let i = 0; i < 10; i++) await login(`Wrong-Password-${i + 3}`);
    const limited = (await scrape(server().url)).samples;
    expect(
      total(limited, 'xscaler_portal_login_attempts_total', { outcome: 'throttled' }) -
        total(before, 'xscaler_portal_login_attempts_total', { outcome: 'throttled' }),
    ).toBeGreaterThan(0);
  });

  it('reports live subscribers by transport', async () => {
    const org = await signupOrg(server());
    const query = 'subscription { orgUsageUpdated { activeSeries } }';
    const gauge = async (transport: string) =>
      total((await scrape(server().url)).samples, 'xscaler_portal_subscribers', { transport });
    const ws = subscribeWs(server().url, query, {}, org.token);
    const sse = await subscribeSse(server().url, query, {}, org.token);
    await expect.poll(() => gauge('graphql-ws'), { timeout: 5000 }).toBe(1);
    await expect.poll(() => gauge('sse'), { timeout: 5000 }).toBe(1);
    ws.close();
    sse.close();
    await expect.poll(() => gauge('graphql-ws'), { timeout: 5000 }).toBe(0);
    await expect.poll(() => gauge('sse'), { timeout: 5000 }).toBe(0);
  });

  it('counts usage sync runs and tells the seconds since the last success', async () => {
    const before = (await scrape(server().url)).samples;
    clock.advance(120_000); // a tick of its own
    expect(await server().app.usageSync.runTick()).toBe('no-source');
    expect(await server().app.usageSync.runTick()).toBe('skipped');
    const after = (await scrape(server().url)).samples;
    const runs = (result: string) =>
      total(after, 'xscaler_portal_usage_sync_runs_total', { result }) -
      total(before, 'xscaler_portal_usage_sync_runs_total', { result });
    expect([runs('no_source'), runs('skipped'), runs('failed')]).toEqual([1, 1, 0]);
    expect(
      total(after, 'xscaler_portal_usage_sync_duration_seconds_count') -
        total(before, 'xscaler_portal_usage_sync_duration_seconds_count'),
    ).toBe(1);
    expect(total(after, 'xscaler_portal_usage_sync_last_success_timestamp_seconds')).toBe(
      Math.floor(clock.now().getTime()) / 1000,
    );
  });

  it('counts notifications from other instances, and hears of their syncs', async () => {
    // Another instance: its own bus, on its own connection on PostgreSQL.
    const database = engine === 'postgres' ? await server().testDatabase.open() : server().database;
    const other = new EventBus(database.notifier, createLogger('silent'), engine === 'postgres');
    await other.start();
    try {
      const read = async () => (await scrape(server().url)).samples;
      const before = total(await read(), 'xscaler_portal_event_notifications_received_total');
      const at = new Date(Date.now() + 3_600_000); // later than any sync of this file
      await other.publish('usage.synced', { at: at.toISOString() });
      await expect
        .poll(
          async () => total(await read(), 'xscaler_portal_event_notifications_received_total'),
          {
            timeout: 5000,
          },
        )
        .toBe(before + 1);
      const after = await read();
      expect(total(after, 'xscaler_portal_usage_sync_last_success_timestamp_seconds')).toBe(
        at.getTime() / 1000,
      );
      expect(total(after, 'xscaler_portal_event_listener_reconnects_total')).toBe(0);
    } finally {
      await other.stop();
      if (database !== server().database) await database.close();
    }
  });

  it.skipIf(engine !== 'postgres')('counts reconnects of the event listener', async () => {
    const reconnects = async () =>
      total((await scrape(server().url)).samples, 'xscaler_portal_event_listener_reconnects_total');
    const before = await reconnects();
    const sql = postgres(server().testDatabase.url!, { max: 1, onnotice: () => {} });
    try {
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
                where datname = current_database() and query ilike 'listen%' and pid <> pg_backend_pid()`;
    } finally {
      await sql.end();
    }
    await expect.poll(reconnects, { timeout: 10_000, interval: 100 }).toBe(before + 1);
  });

  it('reports the PostgreSQL pool (PGlite has none)', async () => {
    const { samples } = await scrape(server().url);
    const max = samplesOf(samples, 'xscaler_portal_db_pool_max_connections');
    if (engine === 'postgres') {
      expect(max.map((s) => s.value)).toEqual([10]);
      expect(samplesOf(samples, 'xscaler_portal_db_pool_connections_in_use')).toHaveLength(1);
      expect(samplesOf(samples, 'xscaler_portal_db_pool_waiting_queries')).toHaveLength(1);
    } else {
      expect(max).toEqual([]);
    }
  });
});

describe('METRICS_PORT', () => {
  it('moves /metrics to a listener of its own', async () => {
    const own = await startTestServer({ env: { METRICS_PORT: '0' } });
    try {
      const metricsUrl = own.app.metricsUrl!;
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${own.url}/metrics`)).status).toBe(404);
      await fetch(`${own.url}/healthz`);
      const { samples } = await scrape(metricsUrl);
      expect(total(samples, REQUESTS, { door: 'health' })).toBe(1);
      expect((await fetch(`${metricsUrl}/graphql`)).status).toBe(404);
      expect((await fetch(`${metricsUrl}/metrics?x=1`)).status).toBe(200);
    } finally {
      await own.stop();
    }
  });

  it('a second app in the same process counts its own unmatched requests', async () => {
    // The unmatched label is shared by every app in the process; its series must not be.
    await fetch(`${server().url}/no-such-path-first`);
    const second = await startTestServer({ env: { METRICS_PORT: '0' } });
    try {
      for (let i = 0; i < 3; i++) await fetch(`${second.url}/no-such-path-${i}`);
      const { samples } = await scrape(second.app.metricsUrl!);
      expect(total(samples, REQUESTS, { route: 'unmatched', status: '404' })).toBe(3);
    } finally {
      await second.stop();
    }
  });

  it('refuses a port that is not one, or the main port', () => {
    expect(() => loadConfig(testEnv({ METRICS_PORT: 'abc' }))).toThrow(ConfigError);
    expect(() => loadConfig(testEnv({ METRICS_PORT: '70000' }))).toThrow(/METRICS_PORT/);
    expect(() => loadConfig(testEnv({ PORT: '4321', METRICS_PORT: '4321' }))).toThrow(
      /METRICS_PORT: must differ from PORT/,
    );
    expect(loadConfig(testEnv({ METRICS_PORT: '' })).metrics.port).toBeUndefined();
    expect(loadConfig(testEnv({ METRICS_PORT: '9464' })).metrics).toEqual({
      port: 9464,
      host: '127.0.0.1',
    });
  });
});
