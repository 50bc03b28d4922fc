import type { Page } from 'playwright-core';
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
import { verifyRequest } from './helpers/http.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import {
  EXPECTED_ERRORS,
  fillLogInForm,
  signUpThroughUi,
  UI_PASSWORD,
  uniqueUiEmail,
} from './helpers/ui.ts';

/**
 * The guide's Exercise 4.1 and the tenant pages through the UI, in real Chromium against a
 * real portal and the Prometheus fixture: every step a platform admin takes, and what the
 * ingestion proxy then sees at /auth/verify.
 */
const enabled = browserTestsEnabled();
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
// The server's clock is moved for usage ticks and for the session's end; it starts at now so
// the browser's own timers agree with the token lifetimes.
const clock = new ManualClock(new Date());
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url, SESSION_MAX_AGE_S: '43200' }),
  overrides: { clock },
});
const browser = useBrowser();

const PASSWORD = UI_PASSWORD;
const uniqueEmail = uniqueUiEmail;
const signUp = (page: Page, email: string) =>
  signUpThroughUi(page, server().url, 'Workshop', email);

async function newTenant(
  page: Page,
  displayName: string,
  environment = 'prod',
  screenshot?: string,
) {
  await page
    .getByRole('button', { name: /^(New Tenant|Create your first tenant)$/ })
    .first()
    .click();
  const dialog = page.getByRole('dialog', { name: 'New Tenant' });
  await dialog.getByLabel('Display Name').fill(displayName);
  await dialog.getByLabel('Environment').selectOption(environment);
  if (screenshot) await saveScreenshot(page, screenshot);
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  return dialog;
}

/** Creates a key through the dialog and returns the secret, read once from the page. */
async function createKey(page: Page, name: string): Promise<string> {
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create API key' });
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByRole('dialog', { name: 'API key created: save it now' });
  const input = shown.getByTestId('issued-key');
  // Masked until revealed: only the prefix is readable.
  expect(await input.inputValue()).toMatch(/^xag_.{4}•+$/);
  await shown.getByRole('button', { name: 'Reveal' }).click();
  const key = await input.inputValue();
  expect(key).toMatch(/^xag_[A-Za-z0-9]{20,}$/);
  await expect.poll(() => shown.locator('pre').first().textContent()).toContain(key);
  // The first close only warns; the second closes.
  await shown.getByRole('button', { name: "I've saved the key" }).click();
  await shown.getByRole('alert').filter({ hasText: "You won't see this key again" }).waitFor();
  await saveScreenshot(page, 'key-created');
  await shown.getByRole('button', { name: 'Close, I saved it' }).click();
  await shown.waitFor({ state: 'hidden' });
  await page.locator('tr', { hasText: name }).waitFor();
  return key;
}

const rows = (page: Page) => page.locator('table tbody tr[data-tenant-id]');

describe.skipIf(!enabled)('tenants, keys and usage in the browser', () => {
  let page: Page;
  let ownerEmail: string;
  let closeAll: () => Promise<void>;
  let guardClean: () => void;

  beforeAll(async () => {
    if (!enabled) return;
    const opened = await openPage(browser(), server().url);
    page = opened.page;
    closeAll = () => opened.context.close();
    guardClean = () => opened.guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    ownerEmail = uniqueEmail('owner');
    await signUp(page, ownerEmail);
  });
  afterAll(async () => {
    await closeAll?.();
  });

  it('starts from an empty state that leads to the first tenant', async () => {
    await page.getByRole('heading', { name: 'No tenants yet' }).waitFor();
    expect(await page.getByTestId('tenant-count').textContent()).toBe(
      '0 of 3 tenants on the free plan',
    );
    expect(await axeViolations(page)).toEqual([]);
  });

  it('refuses empty and overlong display names next to the field, creating nothing', async () => {
    let dialog = await newTenant(page, '   ');
    await dialog.getByText('Enter a display name').waitFor();
    await dialog.getByLabel('Display Name').fill('x'.repeat(101));
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.getByText('Must be at most 100 characters').waitFor();
    expect(await dialog.getByLabel('Display Name').getAttribute('aria-invalid')).toBe('true');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    dialog = page.getByRole('dialog', { name: 'New Tenant' });
    expect(await rows(page).count()).toBe(0);
  });

  it('creates prod, staging and dev tenants through the modal; the list shows their IDs', async () => {
    for (const env of ['prod', 'staging', 'dev']) {
      clock.advance(1000); // "oldest first" needs distinct creation times
      const shot = env === 'dev' ? 'new-tenant-modal' : undefined;
      const dialog = await newTenant(page, `Workshop Service ${env}`, env, shot);
      await dialog.waitFor({ state: 'hidden' });
      await page
        .getByRole('status')
        .filter({ hasText: `Workshop Service ${env}` })
        .waitFor();
    }
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(3);
    const listed = await rows(page).evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())),
    );
    expect(listed.map((r) => [r[0], r[2], r[3], r[4], r[5]])).toEqual([
      ['Workshop Service prod', 'prod', 'Active', 'eu-west-1', '0'],
      ['Workshop Service staging', 'staging', 'Active', 'eu-west-1', '0'],
      ['Workshop Service dev', 'dev', 'Active', 'eu-west-1', '0'],
    ]);
    for (const r of listed) expect(r[1]).toMatch(/^xs_workshop_[a-z2-7]{8}$/);
    expect(await page.getByTestId('tenant-count').textContent()).toBe(
      '3 of 3 tenants on the free plan',
    );
    await saveScreenshot(page, 'tenants-dashboard');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('filters by environment and searches by name', async () => {
    await page.getByLabel('Environment').selectOption('staging');
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(1);
    await page.getByLabel('Environment').selectOption('');
    await page.getByLabel('Search').fill('DEV');
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(1);
    expect(await rows(page).first().locator('td').first().textContent()).toBe(
      'Workshop Service dev',
    );
    await page.getByLabel('Search').fill('nothing like it');
    await page.getByText('No tenant matches these filters.').waitFor();
    await page.getByLabel('Search').fill('');
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(3);
  });

  it('refuses a 4th tenant on the free plan with the plan message and a way to the plans', async () => {
    // A script-looking name, to be shown as the characters it is once created.
    const dialog = await newTenant(page, '<img src=x onerror=alert(1)>');
    const alert = dialog.getByRole('alert');
    await alert.getByText('The free plan allows at most 3 tenants').waitFor();
    expect(await alert.getByRole('link', { name: 'See plans' }).getAttribute('href')).toBe(
      '/ui/users#plans',
    );
    await page.keyboard.press('Escape');
    expect(await rows(page).count()).toBe(3);
  });

  it('shows a script-looking name as text (after an upgrade makes room)', async () => {
    const token = await page.evaluate(async () => {
      const res = await fetch('/auth/session/refresh', { method: 'POST' });
      return (await res.json()).token as string;
    });
    await gqlAt(server().url, 'mutation { changePlan(plan: scale) { __typename } }', {}, token);
    await page.reload();
    const dialog = await newTenant(page, '<img src=x onerror=alert(1)>', 'dev');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('link', { name: '<img src=x onerror=alert(1)>' }).waitFor();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await rows(page).first().locator('xpath=..').locator('tr').count()).toBe(4);
  });

  let active = '';
  let backup = '';
  it('on the prod tenant: hosts, config with <API_KEY>, and two keys each shown once', async () => {
    await page.getByRole('link', { name: 'Workshop Service prod' }).click();
    await page.getByRole('heading', { name: 'Workshop Service prod', level: 1 }).waitFor();
    const tenantId = (await page.getByTestId('tenant-id').textContent())!;
    await page.getByText('euw1-01.m.xscalerlabs.com', { exact: true }).waitFor();
    const config = await page.locator('.collector-config pre').first().textContent();
    expect(config).toContain(`username: ${tenantId}`);
    expect(config).toContain('password: <API_KEY>');
    expect(await axeViolations(page)).toEqual([]);

    active = await createKey(page, 'active-collector-key');
    backup = await createKey(page, 'backup-key');
    expect(active).not.toBe(backup);
    // Once shown and closed, the secret is nowhere on the page.
    expect(await page.content()).not.toContain(active.slice(8));
    expect(await page.getByTestId('key-count').textContent()).toBe('2 of 50 keys in use');
    for (const key of [active, backup]) {
      const ok = await verifyRequest(server().url, `Bearer ${key}`);
      expect(ok).toMatchObject({ status: 200, orgId: tenantId });
    }
  });

  it('revokes a key behind a confirmation; /auth/verify refuses it at once', async () => {
    await page.getByRole('button', { name: 'Revoke key backup-key' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke API key' });
    await confirm.getByText('Collectors using it are refused within 15 seconds').waitFor();
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await verifyRequest(server().url, `Bearer ${backup}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke key backup-key' }).click();
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await page
      .locator('tr', { hasText: 'backup-key' })
      .getByTestId('key-status')
      .getByText('Revoked')
      .waitFor();
    expect((await verifyRequest(server().url, `Bearer ${backup}`)).status).toBe(401);
    expect((await verifyRequest(server().url, `Bearer ${active}`)).status).toBe(200);
  });

  it('rolls a key with a grace period: both secrets work, the status says in grace', async () => {
    await page.getByRole('button', { name: 'Roll key active-collector-key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll API key' });
    await dialog.getByLabel('24 hours').check();
    await dialog.getByRole('button', { name: 'Roll key' }).click();
    const shown = page.getByRole('dialog', { name: 'Key rolled: save the new secret' });
    await shown.getByRole('button', { name: 'Reveal' }).click();
    const rolled = await shown.getByTestId('issued-key').inputValue();
    await shown.getByRole('button', { name: "I've saved the key" }).click();
    await shown.getByRole('button', { name: 'Close, I saved it' }).click();
    await page
      .locator('tr', { hasText: 'active-collector-key' })
      .getByTestId('key-status')
      .getByText('In grace')
      .waitFor();
    expect((await verifyRequest(server().url, `Bearer ${rolled}`)).status).toBe(200);
    expect((await verifyRequest(server().url, `Bearer ${active}`)).status).toBe(200);
  });

  it('updates usage in place after a sync, without a reload', async () => {
    const tenantId = (await page.getByTestId('tenant-id').textContent())!;
    const figure = page.getByTestId('tenant-usage-active-series');
    expect(await figure.textContent()).toBe('0');
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    fixture.set('cortex_ingester_active_series', [{ labels: { user: tenantId }, value: 1243 }]);
    clock.advance(60_000);
    await server().app.usageSync.runTick();
    await expect.poll(() => figure.textContent(), { timeout: 5_000 }).toBe('1,243');
    // Same document: nothing reloaded.
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
  });

  it('the dashboard and the usage view follow each sync in place', async () => {
    const tenantId = (await page.getByTestId('tenant-id').textContent())!;
    await page.getByRole('link', { name: 'Tenants', exact: true }).first().click();
    const cell = page.locator(
      `tr[data-tenant-id="${tenantId}"] [data-testid="tenant-active-series"]`,
    );
    await expect.poll(() => cell.textContent(), { timeout: 5_000 }).toBe('1,243');
    fixture.set('cortex_ingester_active_series', [{ labels: { user: tenantId }, value: 2000 }]);
    clock.advance(60_000);
    await server().app.usageSync.runTick();
    await expect.poll(() => cell.textContent(), { timeout: 5_000 }).toBe('2,000');

    await page.getByRole('link', { name: 'Usage', exact: true }).click();
    const series = page.getByTestId('org-active-series');
    await expect.poll(() => series.textContent(), { timeout: 5_000 }).toContain('2,000');
    fixture.set('cortex_ingester_active_series', [{ labels: { user: tenantId }, value: 3000 }]);
    clock.advance(60_000);
    await server().app.usageSync.runTick();
    await expect.poll(() => series.textContent(), { timeout: 5_000 }).toContain('3,000');
    // The guide's pct_used: floor(3000 / 20000 * 100) on the scale plan.
    await expect.poll(() => page.getByTestId('org-pct-used').textContent()).toContain('15');
    await saveScreenshot(page, 'usage');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('link', { name: /Users/ }).click();
    await page.getByTestId('users-table').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.goBack();
    await page.goBack();
    await page.goBack();
    await page.getByRole('heading', { name: 'Workshop Service prod', level: 1 }).waitFor();
  });

  it('renames and changes environment; suspends and resumes; deletes after typing the name', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit tenant' });
    await edit.getByLabel('Display Name').fill('Payment Service EU Production');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Payment Service EU Production', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Suspend…' }).click();
    await page.getByRole('button', { name: 'Suspend tenant' }).click();
    await page.getByText('This tenant is suspended').waitFor();
    expect((await verifyRequest(server().url, `Bearer ${active}`)).status).toBe(401);
    await page.getByRole('button', { name: 'Resume…' }).click();
    await page.getByRole('button', { name: 'Resume tenant' }).click();
    await page.getByText('This tenant is suspended').waitFor({ state: 'hidden' });
    expect((await verifyRequest(server().url, `Bearer ${active}`)).status).toBe(200);

    await page.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete Payment Service EU Production?' });
    const button = confirm.getByRole('button', { name: 'Delete tenant' });
    expect(await button.isDisabled()).toBe(true);
    await confirm.getByLabel(/Type .* to confirm/).fill('Payment Service');
    expect(await button.isDisabled()).toBe(true);
    await confirm.getByLabel(/Type .* to confirm/).fill('Payment Service EU Production');
    await button.click();
    await page.getByRole('heading', { name: 'Tenants', exact: true }).waitFor();
    await expect.poll(() => rows(page).count(), { timeout: 10_000 }).toBe(3);
    expect((await verifyRequest(server().url, `Bearer ${active}`)).status).toBe(401);
  });

  it('a viewer sees the same tenants and no button that would change anything', async () => {
    const token = await page.evaluate(async () => {
      const res = await fetch('/auth/session/refresh', { method: 'POST' });
      return (await res.json()).token as string;
    });
    const viewerEmail = uniqueEmail('viewer');
    const created = await gqlAt(
      server().url,
      `mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: viewer) { __typename } }`,
      { e: viewerEmail, p: PASSWORD },
      token,
    );
    expect(created.data.createUser.__typename).toBe('User');
    const viewer = await openPage(browser(), server().url);
    try {
      await viewer.page.goto(`${server().url}/ui/`);
      await fillLogInForm(viewer.page, viewerEmail);
      await expect.poll(() => rows(viewer.page).count(), { timeout: 10_000 }).toBe(3);
      expect(await viewer.page.getByRole('button', { name: 'New Tenant' }).count()).toBe(0);
      await viewer.page.getByRole('link', { name: 'Workshop Service staging' }).click();
      await viewer.page.getByRole('heading', { name: 'API keys' }).waitFor();
      const buttons = await viewer.page.locator('main button').allTextContents();
      // Copying, switching tabs and chart ranges are all a viewer can do.
      expect(
        buttons.filter(
          (b) =>
            !/^(Copy|Prometheus|Grafana Alloy|OpenTelemetry Collector|24 h|7 d|30 d|Show as table|Hide table)$/.test(
              b,
            ),
        ),
      ).toEqual([]);
      viewer.guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    } finally {
      await viewer.context.close();
    }
  });

  it('a reload keeps the session; the end of the session leads back to login with a message', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Tenants', exact: true }).waitFor();
    expect(await page.getByRole('banner').getByText(ownerEmail).count()).toBe(1);
    // The token never sits in storage the page's scripts could leak.
    const stored = await page.evaluate(() =>
      JSON.stringify({ ...localStorage, ...sessionStorage }),
    );
    expect(stored).not.toMatch(/eyJ|xsr_/);
    expect(await page.evaluate(() => document.cookie)).toBe('');

    // 12 h later the session is over: the next request finds out, and so does the page.
    clock.advance(12 * 3_600_000 + 1000);
    // The click's request finds out, unless one of the page's own (a live stream's push) got
    // there first and the page already left: on a loaded machine it sometimes does. Either
    // way the page must end at the login with the message.
    const expired = page.getByText('Your session has expired; log in again.');
    const usage = page.getByRole('link', { name: 'Usage' });
    await usage.or(expired).first().waitFor();
    if (await usage.isVisible()) await usage.click({ timeout: 5_000 }).catch(() => undefined);
    await expired.waitFor();
    await page.getByLabel('Email').waitFor();
    guardClean();
  });
});
