import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import Stripe from 'stripe';
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
import { restCall } from './helpers/rest.ts';
import { StripeFixture } from './helpers/stripe-fixture.ts';
import { signUpThroughUi, UI_PASSWORD, uniqueUiEmail } from './helpers/ui.ts';

/**
 * The "Limits and billing" panel of Users & plan, in real Chromium, Stripe billing on: after a
 * downgrade the tenants row says plainly it is over the limit, an 80% alert is listed, the
 * owner gets Upgrade (to Stripe Checkout) and Manage billing, and a wrong plan key is refused
 * next to the field.
 */
const enabled = browserTestsEnabled();
const WEBHOOK_SECRET = 'whsec_ui_fixture';
const prometheus = new PrometheusFixture();
const stripe = new StripeFixture();
let stripeUrl = '';
beforeAll(async () => {
  stripe.prices.set('scale_monthly', 'price_scale_1');
  await prometheus.start();
  stripeUrl = await stripe.start();
});
afterAll(async () => {
  await prometheus.stop();
  await stripe.stop();
});
const clock = new ManualClock(new Date());
const server = useTestServer({
  env: () => ({
    USAGE_PROMETHEUS_URL: prometheus.url,
    STRIPE_SECRET_KEY: 'sk_test_ui',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_PRICE_SCALE: 'scale_monthly',
    STRIPE_API_URL: stripeUrl,
    BILLING_PLAN_KEYS: 'scale=TRAIN-SCALE-2026',
  }),
  overrides: { clock },
});
const browser = useBrowser();
beforeAll(() => server().app.usageSync.stop());

/** Delivers a signed Stripe event for the organisation's subscription. */
async function subscriptionEvent(orgId: string, type: string, status: string, created: number) {
  const payload = JSON.stringify({
    id: `evt_${randomBytes(6).toString('hex')}`,
    object: 'event',
    type,
    created,
    data: {
      object: {
        id: `sub_${orgId}`,
        object: 'subscription',
        customer: `cus_${orgId}`,
        status,
        metadata: { organisation_id: orgId },
        items: {
          object: 'list',
          data: [{ id: 'si_1', price: { id: 'price_scale_1', lookup_key: 'scale_monthly' } }],
        },
      },
    },
  });
  const header = new Stripe('sk_test_x').webhooks.generateTestHeaderString({
    payload,
    secret: WEBHOOK_SECRET,
  });
  const res = await restCall(server().url, 'POST', '/billing/stripe/webhook', {
    body: payload,
    headers: { 'stripe-signature': header },
  });
  expect(res.json.outcome).toBe('applied');
}

describe.skipIf(!enabled)('limits and billing in the browser', () => {
  let page: Page;
  let close: () => Promise<void>;

  beforeAll(async () => {
    if (!enabled) return;
    const opened = await openPage(browser(), server().url);
    page = opened.page;
    close = () => opened.context.close();
  });
  afterAll(() => close?.());

  it('shows the over-limit message, the alert, Upgrade and Manage billing, and refuses a wrong key', async () => {
    const email = uniqueUiEmail('billing-owner');
    await signUpThroughUi(page, server().url, 'Billing Workshop', email);
    const login = await gqlAt(
      server().url,
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }',
      { e: email, p: UI_PASSWORD },
    );
    const { token } = login.data.login;
    const org = await gqlAt(server().url, '{ organisation { id } }', {}, token);
    const user = { organisationId: org.data.organisation.id as string };
    const now = Math.floor(Date.now() / 1000);
    await subscriptionEvent(
      user.organisationId,
      'customer.subscription.created',
      'active',
      now - 60,
    );
    const tenants = [];
    for (let i = 1; i <= 4; i++)
      tenants.push(await createTenant(server(), token, { displayName: `Service ${i}` }));
    await subscriptionEvent(user.organisationId, 'customer.subscription.deleted', 'canceled', now);
    prometheus.set('cortex_ingester_active_series', [
      { labels: { user: tenants[0]!.id }, value: 8_500 },
    ]);
    clock.advance(60_000);
    expect(await server().app.usageSync.runTick()).toBe('synced');
    await server().app.services.usageAlerts.settled();

    await page.getByRole('link', { name: 'Users & plan' }).click();
    const tenantsRow = page.getByTestId('limit-tenants');
    await tenantsRow.waitFor();
    expect(await tenantsRow.textContent()).toContain(
      'Over the limit — what exists keeps working, but no more can be created until it fits.',
    );
    expect(await tenantsRow.locator('td').allTextContents()).toEqual([
      '4',
      '3',
      expect.stringContaining('133.3%'),
      '—',
    ]);
    expect(await page.getByTestId('limit-active_series').textContent()).toContain(
      'Close to the limit.',
    );
    expect(await page.getByTestId('usage-alerts').textContent()).toContain(
      'Active series reached 80%',
    );
    await page.getByRole('button', { name: 'Manage billing' }).waitFor();

    const input = page.getByLabel('Redeem plan key');
    await input.fill('WRONG-KEY-123');
    await page.getByRole('button', { name: 'Redeem' }).click();
    await page.getByText('key: is not a plan key of this server').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await saveScreenshot(page, 'billing-limits');

    // Upgrade leaves for Stripe Checkout (the page guard stops the off-origin navigation).
    const leaving = page.waitForRequest((r) => r.url().startsWith('https://checkout.stripe.test/'));
    await page.getByRole('button', { name: 'Upgrade to Scale' }).click();
    await leaving;
    expect(stripe.requests.at(-1)!.form.client_reference_id).toBe(user.organisationId);
  });
});
