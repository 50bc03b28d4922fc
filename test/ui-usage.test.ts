import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { gqlAt, useTestServer } from './helpers/app.ts';
import {
  axeViolations,
  browserTestsEnabled,
  openPage,
  saveScreenshot,
  useBrowser,
} from './helpers/browser.ts';
import { createTenant } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import { EXPECTED_ERRORS, signUpThroughUi, UI_PASSWORD, uniqueUiEmail } from './helpers/ui.ts';

/**
 * The usage view (issue item 6) in real Chromium against a real portal and the Prometheus
 * fixture: the pending state, figures and the per-tenant table following each sync in place, the
 * warning while syncs fail, the history chart and its table against the API, and the notice
 * when no usage source is configured.
 */
const enabled = browserTestsEnabled();
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
// Starts one second past the current minute: the sync's own timer (real time, aligned to this
// clock's minutes) then first fires ~59 s after the server starts, long after the pending state
// is checked; the ticks below run on this clock's later minutes, so that timer finds them done.
const clock = new ManualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000 + 1000));
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url }),
  overrides: { clock },
});
const browser = useBrowser();

const PASSWORD = UI_PASSWORD;
const uniqueEmail = uniqueUiEmail;
const signUp = (page: Page, url: string, email: string) =>
  signUpThroughUi(page, url, 'Usage Workshop', email);

async function apiToken(url: string, email: string): Promise<string> {
  const res = await gqlAt(
    url,
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
      __typename ... on AuthPayload { token } } }`,
    { e: email, p: PASSWORD },
  );
  expect(res.data.login.__typename).toBe('AuthPayload');
  return res.data.login.token;
}

/** One sync, a new interval of the server's clock (the same one twice is skipped). */
async function tick(ms = 60_000) {
  clock.advance(ms);
  return server().app.usageSync.runTick();
}

const SERIES = 'cortex_ingester_active_series';
const LOGS = 'loki_distributor_bytes_received_total';
const TRACES = 'tempo_distributor_bytes_received_total';

const HISTORY = `query($from: DateTime!, $to: DateTime!, $step: Int) {
  organisation { usageHistory(from: $from, to: $to, step: $step) {
    __typename ... on OrganisationUsageHistorySuccess {
      data { at activeSeries logsGbThisMonth tracesGbThisMonth } } } } }`;

const num = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));

describe.skipIf(!enabled)('usage in the browser', () => {
  let page: Page;
  let token: string;
  let alpha: string;
  let beta: string;
  let closeAll: () => Promise<void>;
  let guardClean: () => void;

  beforeAll(async () => {
    if (!enabled) return;
    const opened = await openPage(browser(), server().url);
    page = opened.page;
    closeAll = () => opened.context.close();
    guardClean = () => opened.guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    const email = uniqueEmail('owner');
    await signUp(page, server().url, email);
    token = await apiToken(server().url, email);
    alpha = (await createTenant(server(), token, { displayName: 'Alpha Service' })).id;
    beta = (
      await createTenant(server(), token, { displayName: 'Beta Service', environment: 'dev' })
    ).id;
  });
  afterAll(async () => {
    await closeAll?.();
  });

  const cell = (tenantId: string, column: number) =>
    page.getByTestId(`tenant-usage-${tenantId}`).locator('td').nth(column);

  it('before any sync: the pending notice, zero figures and an empty chart', async () => {
    await page.getByRole('link', { name: 'Usage', exact: true }).click();
    await page.getByTestId('sync-pending').waitFor();
    expect(await page.getByTestId('sync-pending').textContent()).toContain(
      'The first usage sync has not finished yet',
    );
    const status = await gqlAt(
      server().url,
      '{ usageSyncStatus { sourceConfigured lastSuccessAt } }',
      {},
      token,
    );
    expect(status.data.usageSyncStatus).toEqual({ sourceConfigured: true, lastSuccessAt: null });
    expect(await page.getByTestId('org-active-series').textContent()).toBe('0');
    expect(await page.getByTestId('org-pct-used').textContent()).toBe('0 %');
    expect(await page.getByTestId('org-synced-at').textContent()).toBe('No sync yet');
    expect(await page.getByTestId('org-synced-ago').textContent()).toBe('never');
    expect(await page.getByTestId('sync-stale-warning').count()).toBe(0);
    await page.getByTestId('usage-chart-empty').waitFor();
    expect(await page.getByTestId('tenant-usage-table').locator('tbody tr').count()).toBe(2);
    expect(await cell(alpha, 1).textContent()).toBe('0');
    expect(await cell(alpha, 4).textContent()).toBe('never');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('each sync updates the org figures and the per-tenant table in place', async () => {
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    fixture.set(LOGS, [{ labels: { tenant: alpha }, value: 420_000_000 }]);
    fixture.set(TRACES, [{ labels: { tenant: beta }, value: 1_500_000_000 }]);
    // The guide's pct_used is floor(active / max x 100) against the free plan's 10,000: 2,900
    // is 29 (floating point would say 28.999…), 2,999 is 29 (not rounded up to 30).
    for (const [a, b, pct] of [
      [1_000, 243, 12],
      [2_000, 900, 29],
      [2_000, 999, 29],
    ] as const) {
      const before = await page.getByTestId('org-synced-at').textContent();
      fixture.set(SERIES, [
        { labels: { user: alpha }, value: a },
        { labels: { user: beta }, value: b },
      ]);
      expect(await tick()).toBe('synced');
      const total = (a + b).toLocaleString('en-US');
      await expect
        .poll(() => page.getByTestId('org-active-series').textContent(), { timeout: 5_000 })
        .toBe(total);
      await expect
        .poll(() => page.getByTestId('org-pct-used').textContent(), { timeout: 5_000 })
        .toBe(`${pct} %`);
      await expect
        .poll(() => cell(alpha, 1).textContent(), { timeout: 5_000 })
        .toBe(a.toLocaleString('en-US'));
      await expect.poll(() => cell(beta, 1).textContent(), { timeout: 5_000 }).toBe(String(b));
      expect(await page.getByTestId('org-synced-at').textContent()).not.toBe(before);

      // The API says the same (its pctUsed keeps the decimals; the page shows the guide's floor).
      const api = await gqlAt(
        server().url,
        '{ organisation { usage { activeSeries planMaxActiveSeries pctUsed logsGbThisMonth tracesGbThisMonth syncedAt } } }',
        {},
        token,
      );
      const usage = api.data.organisation.usage;
      expect(usage).toMatchObject({
        activeSeries: a + b,
        planMaxActiveSeries: 10_000,
        logsGbThisMonth: 0.42,
        tracesGbThisMonth: 1.5,
      });
      expect(Math.floor(((a + b) * 100) / usage.planMaxActiveSeries)).toBe(pct);
      expect(
        Date.parse(
          (await page.getByTestId('org-synced-at').getAttribute('datetime')) ?? 'not a date',
        ),
      ).toBe(Date.parse(usage.syncedAt));
    }
    expect(await page.getByTestId('org-logs-gb').textContent()).toBe('0.42 GB');
    expect(await page.getByTestId('org-traces-gb').textContent()).toBe('1.5 GB');
    expect(await cell(alpha, 2).textContent()).toBe('0.42 GB');
    expect(await cell(alpha, 3).textContent()).toBe('0 GB');
    expect(await cell(beta, 2).textContent()).toBe('0 GB');
    expect(await cell(beta, 3).textContent()).toBe('1.5 GB');
    expect(await page.getByTestId('usage-live-summary').textContent()).toBe(
      '2,999 active series, 29 % of the plan; logs 0.42 GB, traces 1.5 GB this month.',
    );
    expect(await page.getByTestId('sync-pending').count()).toBe(0);
    expect(await page.getByTestId('sync-stale-warning').count()).toBe(0);
    // The same document throughout: nothing reloaded.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });

  it('warns while syncs fail (the status poll, no reload), and a good sync clears it', async () => {
    fixture.mode = 'http-500';
    fixture.set(SERIES, [{ labels: { user: alpha }, value: 7_777 }]);
    expect(await tick()).toBe('failed');
    const status = await gqlAt(
      server().url,
      '{ usageSyncStatus { lastError lastErrorAt lastSuccessAt } }',
      {},
      token,
    );
    expect(status.data.usageSyncStatus.lastError).toMatch(/usage source/);
    // A failing source pushes nothing: the page learns from its status poll (every 15 s).
    const warning = page.getByTestId('sync-stale-warning');
    await warning.waitFor({ timeout: 20_000 });
    expect(await warning.textContent()).toContain(
      'Usage figures may be out of date: the last sync failed.',
    );
    expect(await warning.locator('.mono').textContent()).toBe(
      status.data.usageSyncStatus.lastError,
    );
    // The stored figures stay as they were.
    expect(await page.getByTestId('org-active-series').textContent()).toBe('2,999');
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

    fixture.mode = 'ok';
    expect(await tick()).toBe('synced');
    // The sync's push makes the page read the status again at once.
    await warning.waitFor({ state: 'detached', timeout: 5_000 });
    await expect
      .poll(() => page.getByTestId('org-active-series').textContent(), { timeout: 5_000 })
      .toBe('7,777');
  });

  it('after a reload the chart and its table hold the API history for the same window', async () => {
    // Five minutes apart: one point each in the 24 h range's 5-minute steps.
    for (const value of [3_000, 4_500, 3_800, 5_200]) {
      fixture.set(SERIES, [
        { labels: { user: alpha }, value },
        { labels: { user: beta }, value: 100 },
      ]);
      expect(await tick(5 * 60_000)).toBe('synced');
    }
    // The page asks for a window ending at its own clock, then at the last sync once it knows
    // it (this server's clock runs ahead of the browser's): the last one asked is what it shows.
    const windows: { from: string; to: string; step: number }[] = [];
    const record = (r: Request) => {
      const url = new URL(r.url());
      if (url.pathname !== '/graphql') return;
      // urql sends queries as GET while they fit in a URL; a POST body otherwise.
      const query = url.searchParams.get('query') ?? r.postDataJSON()?.query ?? '';
      if (!query.includes('OrgUsageHistory')) return;
      const variables = url.searchParams.get('variables');
      windows.push(variables ? JSON.parse(variables) : r.postDataJSON().variables);
    };
    page.on('request', record);
    await page.reload();
    const chart = page.getByTestId('usage-chart');
    await expect
      .poll(() => chart.getAttribute('aria-label'), { timeout: 5_000 })
      .toContain('latest 5,300');
    page.off('request', record);
    const variables = windows.at(-1)!;
    expect(variables.step).toBe(300);
    expect(Date.parse(variables.to) - Date.parse(variables.from)).toBe(86_400_000);
    expect(Date.parse(variables.to)).toBeGreaterThanOrEqual(clock.now().getTime());
    const api = await gqlAt(server().url, HISTORY, variables, token);
    const points: {
      at: string;
      activeSeries: number;
      logsGbThisMonth: number;
      tracesGbThisMonth: number;
    }[] = api.data.organisation.usageHistory.data;
    expect(points.length).toBeGreaterThanOrEqual(4);
    expect(points.at(-1)?.activeSeries).toBe(5_300);
    expect(Date.parse(points.at(-1)!.at)).toBe(clock.now().getTime());

    await expect.poll(() => chart.locator('canvas').count(), { timeout: 5_000 }).toBe(1);
    const summary = (await chart.getAttribute('aria-label')) ?? '';
    expect(summary).toContain('Organisation usage over the last 24 hours');
    expect(summary).toContain(`${points.length} points`);
    expect(summary).toContain('latest 5,300');
    expect(summary).toContain('logs 0.42 GB and traces 1.5 GB this month');

    await page.getByRole('button', { name: 'Show as table' }).click();
    const table = page.getByRole('region', { name: 'Organisation usage: every point' });
    const rows = await table.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        at: tr.querySelector('time')?.getAttribute('datetime') ?? '',
        cells: [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent ?? ''),
      })),
    );
    // Newest first.
    expect(
      rows.map((r) => ({
        at: Date.parse(r.at),
        activeSeries: num(r.cells[0] ?? null),
        logsGbThisMonth: num(r.cells[1] ?? null),
        tracesGbThisMonth: num(r.cells[2] ?? null),
      })),
    ).toEqual(
      [...points].reverse().map((p) => ({
        at: Date.parse(p.at),
        activeSeries: p.activeSeries,
        logsGbThisMonth: p.logsGbThisMonth,
        tracesGbThisMonth: p.tracesGbThisMonth,
      })),
    );
    expect(await axeViolations(page)).toEqual([]);
    await saveScreenshot(page, 'usage');
    await page.getByRole('button', { name: 'Hide table' }).click();
    expect(await table.isHidden()).toBe(true);
    guardClean();
  });
});

describe.skipIf(!enabled)('usage in the browser without a usage source', () => {
  const bareClock = new ManualClock(new Date());
  const bare = useTestServer({ overrides: { clock: bareClock } });

  it('says no source is configured, and the figures stay 0 after a sync', async () => {
    const { context, page, guard } = await openPage(browser(), bare().url);
    try {
      const email = uniqueEmail('nosource');
      await signUp(page, bare().url, email);
      const token = await apiToken(bare().url, email);
      await createTenant(bare(), token, { displayName: 'Quiet Service' });
      // A minute on: this server's own timer may have run the current one already.
      bareClock.advance(60_000);
      expect(await bare().app.usageSync.runTick()).toBe('no-source');
      await page.getByRole('link', { name: 'Usage', exact: true }).click();
      const notice = page.getByTestId('sync-no-source');
      await notice.waitFor();
      expect(await notice.textContent()).toContain('USAGE_PROMETHEUS_URL');
      expect(await page.getByTestId('sync-pending').count()).toBe(0);
      expect(await page.getByTestId('sync-stale-warning').count()).toBe(0);
      expect(await page.getByTestId('org-active-series').textContent()).toBe('0');
      const status = await gqlAt(
        bare().url,
        '{ usageSyncStatus { sourceConfigured } organisation { usage { activeSeries } } }',
        {},
        token,
      );
      expect(status.data).toEqual({
        usageSyncStatus: { sourceConfigured: false },
        organisation: { usage: { activeSeries: 0 } },
      });
      expect(await axeViolations(page)).toEqual([]);
      guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    } finally {
      await context.close();
    }
  });
});
