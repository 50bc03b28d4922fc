import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gqlAt, useTestServer } from './helpers/app.ts';
import {
  axeViolations,
  browserTestsEnabled,
  openPage,
  saveScreenshot,
  useBrowser,
} from './helpers/browser.ts';
import { fillLogInForm, fillSignUpForm, uniqueUiEmail } from './helpers/ui.ts';

/**
 * The browser UI and GraphiQL in real Chromium against a real portal (pglite project only; see
 * browserTestsEnabled). A short access-token lifetime makes the page refresh every few seconds,
 * so every test also runs across refreshes and socket restarts.
 */
const enabled = browserTestsEnabled();
const server = useTestServer({ env: { JWT_TTL_S: '60' } });
// For the refresh test: its own portal whose sync timer is stopped, so the only tick of the
// minute is the test's (a tick the timer ran first would make it a skip).
const refreshing = useTestServer({ env: { JWT_TTL_S: '60' } });
beforeAll(() => refreshing().app.usageSync.stop());
const browser = useBrowser();

/** The boot refresh of a signed-out page answers 401, which Chromium logs as a console error. */
const EXPECTED_ERRORS = [/Failed to load resource: the server responded with a status of 401/];

const uniqueEmail = uniqueUiEmail;
const signUp = fillSignUpForm;
const logIn = fillLogInForm;

const banner = (page: Page) => page.getByRole('banner');
/** expect.poll with room for scrypt and a busy 2-core machine. */
const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000 });

describe.skipIf(!enabled)('UI shell in Chromium', () => {
  it('GraphiQL renders its editor offline, with no request off the origin and no CSP violation', async () => {
    const { context, page, guard } = await openPage(browser(), server().url);
    try {
      const introspection = page.waitForResponse(
        (r) => r.url().endsWith('/graphql') && r.request().method() === 'POST',
      );
      await page.goto(`${server().url}/graphql`);
      await page.locator('.graphiql-container .monaco-editor').first().waitFor();
      expect((await introspection).status()).toBe(200);
      await page.waitForTimeout(500); // workers start, fonts load
      expect(await page.locator('.monaco-editor').count()).toBeGreaterThan(0);
      expect(await page.title()).not.toContain('Loading');
      guard.assertClean({ allowErrors: [] });
      expect(page.workers().length).toBeGreaterThan(0); // Monaco's workers, from blob: URLs
    } finally {
      await context.close();
    }
  });

  it('the login view loads from the portal alone, under its CSP, with no serious axe violation', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { context, page, guard } = await openPage(browser(), server().url, { colorScheme });
      try {
        await page.goto(server().url);
        expect(new URL(page.url()).pathname).toBe('/ui/');
        await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
        expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(colorScheme);
        expect(await axeViolations(page)).toEqual([]);
        await saveScreenshot(page, `login-${colorScheme}`);
        guard.assertClean({ allowErrors: EXPECTED_ERRORS });
      } finally {
        await context.close();
      }
    }
  });

  it('signs up through the form, keeps the session across a reload, and logs out', async () => {
    const { context, page, guard } = await openPage(browser(), server().url);
    try {
      await page.goto(`${server().url}/ui/`);
      // A script-looking name is shown as those characters, never run.
      const organisation = `Workshop <img src=x onerror=alert(1)> ${Date.now()}`;
      const email = uniqueEmail('owner');
      page.on('dialog', () => {
        throw new Error('a dialog opened: the organisation name ran as HTML');
      });
      await signUp(page, organisation, email);
      await banner(page).getByText(email).waitFor();
      // Screen readers hear "Organisation: <name>" and "Signed in as <email>, role: owner".
      await banner(page).getByTitle(organisation).waitFor();
      const header = await banner(page).textContent();
      expect(header).toContain(`Organisation: ${organisation}`);
      expect(header).toContain(`Signed in as ${email}, role: owner`);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      await banner(page).getByText('Live', { exact: true }).waitFor();

      // The token stays in memory: nothing in storage, the cookie is HttpOnly.
      const stored = await page.evaluate(() => ({
        local: JSON.stringify({ ...localStorage }),
        session: JSON.stringify({ ...sessionStorage }),
        cookie: document.cookie,
      }));
      expect(stored.local).not.toMatch(/eyJ/);
      expect(stored.session).toBe('{}');
      expect(stored.cookie).toBe('');

      expect(await axeViolations(page)).toEqual([]);
      await saveScreenshot(page, 'shell-light');

      await page.reload();
      await banner(page).getByText(email).waitFor();
      await banner(page).getByText('Live', { exact: true }).waitFor();

      // Client routes: the header's links, and a deep link.
      await page.getByRole('link', { name: 'Usage' }).click();
      expect(new URL(page.url()).pathname).toBe('/ui/usage');
      await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
      expect(await page.getByRole('link', { name: 'Usage' }).getAttribute('aria-current')).toBe(
        'page',
      );
      await page.goto(`${server().url}/ui/users`);
      await page.getByRole('heading', { name: /Users/, level: 1 }).waitFor();

      // Dark theme from the toggle, persisted for the next load.
      await page.getByLabel('Theme').selectOption('dark');
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      await page.goto(`${server().url}/ui/`);
      await banner(page).getByText(email).waitFor();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      await banner(page).getByText('Live', { exact: true }).waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await saveScreenshot(page, 'shell-dark');
      await page.getByLabel('Theme').selectOption('system');

      await banner(page).getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
      guard.assertClean({ allowErrors: EXPECTED_ERRORS });

      // And back in with the password.
      await logIn(page, email);
      await banner(page).getByText(email).waitFor();
    } finally {
      await context.close();
    }
  });

  it('shows the API answers next to the fields and as readable alerts', async () => {
    const { context, page } = await openPage(browser(), server().url);
    try {
      const email = uniqueEmail('taken');
      await gqlAt(
        server().url,
        'mutation($e: String!) { signup(organisationName: "Taken", email: $e, password: "Training123!") { __typename } }',
        { e: email },
      );
      await page.goto(`${server().url}/ui/`);

      await logIn(page, email, 'wrong-password-1');
      await eventually(() => page.getByRole('alert').textContent()).toMatch(/password/i);

      await signUp(page, '   ', uniqueEmail('blank'));
      const orgField = page.getByLabel('Organisation name');
      await eventually(() => orgField.getAttribute('aria-invalid')).toBe('true');
      const described = await orgField.getAttribute('aria-describedby');
      expect(await page.locator(`[id="${described}"]`).textContent()).toMatch(/empty/i);

      await orgField.fill('Another');
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Create organisation' }).click();
      // An email that has an account: login's answer to a wrong password, never "exists".
      await eventually(() => page.getByRole('alert').textContent()).toMatch(
        /Invalid email or password/,
      );

      // Rate limited: ten failures from this address, then the form says how long to wait.
      const limited = uniqueEmail('limited');
      for (let i = 0; i < 10; i++) {
        await gqlAt(
          server().url,
          'mutation($e: String!) { login(email: $e, password: "nope-nope-nope") { __typename } }',
          { e: limited },
        );
      }
      await page.getByRole('button', { name: 'Log in' }).last().click();
      await logIn(page, limited, 'nope-nope-nope');
      await eventually(() => page.getByRole('alert').textContent()).toMatch(
        /Try again in \d+ (s|min)/,
      );
      expect(await page.getByRole('button', { name: 'Log in' }).last().isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('an ended session leads back to login with a message', async () => {
    const { context, page } = await openPage(browser(), server().url);
    try {
      await page.goto(`${server().url}/ui/`);
      const email = uniqueEmail('expiring');
      await signUp(page, 'Expiring', email);
      await banner(page).getByText(email).waitFor();
      // The session ends on the server side (as at its maximum age): the next refresh, at most
      // a few seconds away with a 60 s token, answers 401.
      await context.clearCookies();
      await page.getByText('Your session has expired; log in again.').waitFor({ timeout: 20_000 });
      await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('a live subscription keeps delivering across token refreshes and socket restarts', async () => {
    const { context, page, guard } = await openPage(browser(), refreshing().url);
    try {
      await page.goto(`${refreshing().url}/ui/`);
      await signUp(page, 'Refreshing', uniqueEmail('refresh'));
      await page.getByRole('link', { name: 'Usage', exact: true }).click();
      await banner(page).getByText('Live', { exact: true }).waitFor();
      const refreshes = () => guard.requests.filter((u) => u.endsWith('/auth/session/refresh'));
      const sockets = () => guard.requests.filter((u) => u.startsWith('ws:'));
      const before = { refreshes: refreshes().length, sockets: sockets().length };
      // 60 s tokens: the page renews one every few seconds and reopens its socket each time.
      await expect
        .poll(() => refreshes().length, { timeout: 30_000 })
        .toBeGreaterThanOrEqual(before.refreshes + 2);
      await expect
        .poll(() => sockets().length, { timeout: 10_000 })
        .toBeGreaterThan(before.sockets);
      await banner(page).getByText('Live', { exact: true }).waitFor();
      // The subscription made on the first socket still delivers on the latest one.
      const syncedAt = page.getByTestId('org-synced-at');
      const shown = (await syncedAt.count()) ? await syncedAt.textContent() : null;
      expect(await refreshing().app.usageSync.runTick()).not.toBe('skipped');
      await expect
        .poll(async () => ((await syncedAt.count()) ? syncedAt.textContent() : null), {
          timeout: 5_000,
        })
        .not.toBe(shown);
      guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    } finally {
      await context.close();
    }
  });
});
