import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { createLogger } from '../src/lib/logger.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import { restAs } from './helpers/rest.ts';

/**
 * The usage sync is platform-wide, and its failures can name any tenant (a bad value from the
 * source names the tenant it came from). Organisations see timestamps and a state; the detail
 * goes to the operator's log only.
 */
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const logLines: string[] = [];
const clock = new ManualClock(new Date('2026-06-18T10:00:30Z'));
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url, USAGE_SOURCE_TIMEOUT_S: '0.5' }),
  overrides: { clock, logger: createLogger('warn', (line) => void logLines.push(line)) },
});

const SERIES = 'cortex_ingester_active_series';
const STATUS = `{ usageSyncStatus { sourceConfigured intervalSeconds state lastAttemptAt lastSuccessAt
  lastError lastErrorAt tenantsSynced } }`;

// The test ticks by hand: the sync's own timer must not take a tick first.
beforeAll(() => server().app.usageSync.stop());

async function tick() {
  clock.advance(60_000);
  return server().app.usageSync.runTick();
}

/** Everything an organisation's user can read about the sync, over both doors, as text. */
async function seenBy(org: TestOrg) {
  const gql = await server().gql(STATUS, {}, org.token);
  expect(gql.errors).toBeUndefined();
  const rest = await restAs(server().url, org.token)('GET', '/dashboard/usage-sync');
  expect(rest.status).toBe(200);
  return { gql: gql.data.usageSyncStatus, rest: rest.json, text: JSON.stringify(gql) + rest.text };
}

describe('usage sync status', () => {
  let alpha: TestOrg;
  let beta: TestOrg;
  let alphaTenant: string;
  let betaTenant: string;

  it('is pending before the first sync, then ok with the caller’s own tenant count', async () => {
    alpha = await signupOrg(server(), 'Alpha Org');
    beta = await signupOrg(server(), 'Beta Org');
    alphaTenant = (await createTenant(server(), alpha.token, { displayName: 'Alpha One' })).id;
    await createTenant(server(), alpha.token, { displayName: 'Alpha Two' });
    betaTenant = (await createTenant(server(), beta.token, { displayName: 'Beta One' })).id;

    const before = await seenBy(alpha);
    expect(before.gql).toMatchObject({ state: 'pending', lastSuccessAt: null, tenantsSynced: 0 });
    expect(before.rest).toMatchObject({ state: 'pending', interval_seconds: 60 });

    fixture.set(SERIES, [
      { labels: { user: alphaTenant }, value: 10 },
      { labels: { user: betaTenant }, value: 20 },
    ]);
    expect(await tick()).toBe('synced');
    const a = await seenBy(alpha);
    expect(a.gql).toEqual({
      sourceConfigured: true,
      intervalSeconds: 60,
      state: 'ok',
      lastAttemptAt: '2026-06-18T10:01:30Z',
      lastSuccessAt: '2026-06-18T10:01:30Z',
      lastError: null,
      lastErrorAt: null,
      tenantsSynced: 2,
    });
    expect(a.rest).toEqual({
      source_configured: true,
      interval_seconds: 60,
      state: 'ok',
      last_attempt_at: '2026-06-18T10:01:30Z',
      last_success_at: '2026-06-18T10:01:30Z',
      last_error: null,
      last_error_at: null,
      tenants_synced: 2,
    });
    // Not the platform's count: beta has one tenant.
    expect((await seenBy(beta)).gql.tenantsSynced).toBe(1);
  });

  it("a failure caused by another organisation's tenant never shows that tenant's ID", async () => {
    // A value the sync refuses, attributed to beta's tenant: the detail names it.
    fixture.set(SERIES, [
      { labels: { user: alphaTenant }, value: 11 },
      { labels: { user: betaTenant }, value: -5 },
    ]);
    logLines.length = 0;
    expect(await tick()).toBe('failed');

    const a = await seenBy(alpha);
    expect(a.text).not.toContain(betaTenant);
    expect(a.text).not.toContain(new URL(fixture.url).host);
    expect(a.gql).toMatchObject({
      state: 'failing',
      lastSuccessAt: '2026-06-18T10:01:30Z',
      lastErrorAt: '2026-06-18T10:02:30Z',
      lastError:
        'The last usage sync could not read the usage source; figures are from the last successful sync. The operator has the details.',
    });
    expect(a.rest).toMatchObject({ state: 'failing', last_error: a.gql.lastError });
    // Beta's own users get the same generic answer.
    const b = await seenBy(beta);
    expect(b.text).not.toContain(betaTenant);
    expect(b.gql.lastError).toBe(a.gql.lastError);

    // The operator has the detail: in the log, naming the tenant and the value.
    const warning = logLines.map((l) => JSON.parse(l)).find((l) => l.msg.includes('usage sync'));
    expect(warning?.error).toContain(betaTenant);
    expect(warning?.error).toContain('-5');
  });

  it('an unreachable source: the host stays out of the answer; a good tick clears the state', async () => {
    fixture.mode = 'http-500';
    expect(await tick()).toBe('failed');
    const failing = await seenBy(alpha);
    expect(failing.gql.state).toBe('failing');
    expect(failing.text).not.toContain('HTTP 500');
    expect(failing.text).not.toContain('internal error');

    fixture.mode = 'ok';
    fixture.set(SERIES, [{ labels: { user: alphaTenant }, value: 12 }]);
    expect(await tick()).toBe('synced');
    const ok = await seenBy(alpha);
    expect(ok.gql).toMatchObject({
      state: 'ok',
      lastError: null,
      lastSuccessAt: '2026-06-18T10:04:30Z',
      // The last failure's time stays visible.
      lastErrorAt: '2026-06-18T10:03:30Z',
      tenantsSynced: 2,
    });
  });
});
