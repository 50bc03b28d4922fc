import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { gqlAt, useTestServer } from './helpers/app.ts';
import { axeViolations, browserTestsEnabled, openPage, useBrowser } from './helpers/browser.ts';
import { createTenant, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import {
  EXPECTED_ERRORS,
  logInThroughUi,
  signUpThroughUi,
  UI_PASSWORD,
  uniqueUiEmail,
} from './helpers/ui.ts';

/**
 * Users and plan through the UI (issue item 7), in real Chromium against a real portal: an owner
 * lists, adds, re-roles and removes users and changes the plan; an admin and a viewer see only
 * what their role may do. Every change is checked again through the API.
 */
const enabled = browserTestsEnabled();
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
const clock = new ManualClock(new Date());
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url }),
  overrides: { clock },
});
const browser = useBrowser();

const PASSWORD = UI_PASSWORD;
const uniqueEmail = uniqueUiEmail;
const signUp = (page: Page, email: string) =>
  signUpThroughUi(page, server().url, 'Users Workshop', email);
const logIn = (page: Page, email: string) => logInThroughUi(page, server().url, email);

async function openUsers(page: Page) {
  await page.getByRole('link', { name: 'Users & plan' }).click();
  await page.getByTestId('users-table').waitFor();
}

/** A token of the API's own, for checking what the page did (a session of its own). */
async function apiToken(email: string): Promise<string> {
  const res = await gqlAt(
    server().url,
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
      __typename ... on AuthPayload { token } } }`,
    { e: email, p: PASSWORD },
  );
  expect(res.data.login.__typename).toBe('AuthPayload');
  return res.data.login.token;
}

async function apiUsers(token: string): Promise<{ email: string; role: string }[]> {
  const res = await gqlAt(server().url, '{ organisation { users { email role } } }', {}, token);
  expect(res.errors).toBeUndefined();
  // Sorted: users added in the same millisecond (the clock stands still here) have no order.
  return [...res.data.organisation.users].sort((a, b) => a.email.localeCompare(b.email));
}

async function apiPlan(token: string): Promise<string> {
  const res = await gqlAt(server().url, '{ organisation { billingPlan } }', {}, token);
  expect(res.errors).toBeUndefined();
  return res.data.organisation.billingPlan;
}

async function createUser(token: string, email: string, role: 'admin' | 'viewer') {
  const res = await gqlAt(
    server().url,
    `mutation($e: String!, $p: String!, $r: Role!) {
      createUser(email: $e, password: $p, role: $r) { __typename } }`,
    { e: email, p: PASSWORD, r: role },
    token,
  );
  expect(res.data.createUser.__typename).toBe('User');
}

/** The text of the error an input is described by (the Field's "-error" paragraph), or null. */
function fieldError(input: Locator): Promise<string | null> {
  return input.evaluate((el) => {
    const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/);
    const id = ids.find((i) => i.endsWith('-error'));
    return id ? (document.getElementById(id)?.textContent ?? null) : null;
  });
}

const optionValues = (select: Locator) =>
  select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));

/** Every control in a row that could change something. */
const controlsIn = (scope: Locator) => scope.locator('button, select, input, textarea');

/** The plans table as text, header row first (badges read as part of their cell). */
const tableText = (table: Locator) =>
  table.locator('thead tr, tbody tr').evaluateAll((trs) =>
    trs.map((tr) =>
      [...tr.querySelectorAll('th, td')].map((c) =>
        [...c.childNodes]
          .map((n) => n.textContent?.trim())
          .filter(Boolean)
          .join(' '),
      ),
    ),
  );

describe.skipIf(!enabled)('users and plan in the browser', () => {
  let page: Page;
  let ownerEmail: string;
  let ownerToken: string;
  let closeAll: () => Promise<void>;
  let guardClean: () => void;
  const added = uniqueEmail('added-admin');

  beforeAll(async () => {
    if (!enabled) return;
    const opened = await openPage(browser(), server().url);
    page = opened.page;
    closeAll = () => opened.context.close();
    guardClean = () => opened.guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    ownerEmail = uniqueEmail('owner');
    await signUp(page, ownerEmail);
    ownerToken = await apiToken(ownerEmail);
  });
  afterAll(async () => {
    await closeAll?.();
  });

  it('lists the owner as "(you)", with no controls on its own row', async () => {
    await openUsers(page);
    const own = page.getByTestId(`user-row-${ownerEmail}`);
    expect(await own.locator('th').textContent()).toBe(`${ownerEmail} (you)`);
    expect(await own.locator('.role-text').textContent()).toBe('owner');
    expect(await controlsIn(own).count()).toBe(0);
    expect(await page.getByTestId('users-table').locator('tbody tr').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('refuses an empty or invalid email and a short password next to the fields, creating nothing', async () => {
    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    const email = dialog.getByLabel('Email');
    const password = dialog.getByLabel('Initial password');
    // An owner may give every role; a new user starts as a viewer.
    expect(await optionValues(dialog.getByLabel('Role'))).toEqual(['owner', 'admin', 'viewer']);
    expect(await dialog.getByLabel('Role').inputValue()).toBe('viewer');

    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.getByText('Enter the new user’s email address.').waitFor();
    expect(await fieldError(email)).toBe('Enter the new user’s email address.');
    expect(await fieldError(password)).toBe('At least 10 characters (this one has 0).');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    expect(await axeViolations(page)).toEqual([]);

    // A well-formed password and an address that is not one: the API's answer, by the email.
    await email.fill('not-an-email');
    await password.fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.getByText('Must be a valid email address').waitFor();
    expect(await fieldError(email)).toBe('Must be a valid email address');
    expect(await fieldError(password)).toBeNull();

    // A valid email and a 9-character password.
    await email.fill(added);
    await password.fill('123456789');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.getByText('At least 10 characters (this one has 9).').waitFor();
    expect(await fieldError(password)).toBe('At least 10 characters (this one has 9).');
    expect(await fieldError(email)).toBeNull();
    expect(await axeViolations(page)).toEqual([]);

    expect((await apiUsers(ownerToken)).map((u) => u.email)).toEqual([ownerEmail]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByTestId('users-table').locator('tbody tr').count()).toBe(1);
  });

  it('says an email already registered (here or in another organisation) is taken', async () => {
    const elsewhere = await signupOrg(server(), 'Another Org');
    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    // Reopened empty: the last attempt's input and errors are gone.
    expect(await dialog.getByLabel('Email').inputValue()).toBe('');
    expect(await fieldError(dialog.getByLabel('Email'))).toBeNull();
    for (const taken of [elsewhere.email, ownerEmail.toUpperCase()]) {
      await dialog.getByLabel('Email').fill(taken);
      await dialog.getByLabel('Initial password').fill(PASSWORD);
      await dialog.getByRole('button', { name: 'Add user' }).click();
      await expect
        .poll(() => fieldError(dialog.getByLabel('Email')), { timeout: 5_000 })
        .toBe('An account with this email already exists');
      // Not silently re-submitted elsewhere: the password error stays away.
      expect(await fieldError(dialog.getByLabel('Initial password'))).toBeNull();
    }
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await apiUsers(ownerToken)).map((u) => u.email)).toEqual([ownerEmail]);
  });

  it('adds an admin through the dialog; the API lists them and they can log in', async () => {
    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    await dialog.getByLabel('Email').fill(added);
    await dialog.getByLabel('Initial password').fill(PASSWORD);
    await dialog.getByLabel('Role').selectOption('admin');
    await dialog.getByText('Admin: tenants, keys and users (not owners, not the plan).').waitFor();
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page
      .getByRole('status')
      .filter({ hasText: `${added} was added as an admin.` })
      .waitFor();
    const row = page.getByTestId(`user-row-${added}`);
    await row.waitFor();
    expect(await row.getByLabel(`Role of ${added}`).inputValue()).toBe('admin');
    expect(await row.locator('th').textContent()).toBe(added);
    expect(await apiUsers(ownerToken)).toEqual([
      { email: added, role: 'admin' },
      { email: ownerEmail, role: 'owner' },
    ]);
    // The initial password typed in the dialog is theirs.
    expect(await apiToken(added)).toMatch(/^eyJ/);
  });

  it("changes that user's role to viewer only on Save (Cancel keeps it)", async () => {
    const row = page.getByTestId(`user-row-${added}`);
    const select = row.getByLabel(`Role of ${added}`);
    // Picking an option alone changes nothing; Cancel puts it back.
    await select.selectOption('viewer');
    await row.getByRole('button', { name: `Keep ${added} as admin` }).click();
    expect(await select.inputValue()).toBe('admin');
    expect(await row.getByRole('button', { name: /^Save role/ }).count()).toBe(0);
    expect((await apiUsers(ownerToken)).find((u) => u.email === added)?.role).toBe('admin');

    await select.selectOption('viewer');
    await row.getByRole('button', { name: `Save role viewer for ${added}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${added} is now a viewer.` })
      .waitFor();
    await row.getByRole('button', { name: /^Save role/ }).waitFor({ state: 'detached' });
    expect(await select.inputValue()).toBe('viewer');
    expect((await apiUsers(ownerToken)).find((u) => u.email === added)?.role).toBe('viewer');
    // And it stays so after a reload (read from the server, not the page's memory).
    await page.reload();
    await page.getByTestId(`user-row-${added}`).waitFor();
    expect(await page.getByLabel(`Role of ${added}`).inputValue()).toBe('viewer');
  });

  it('removes the user behind a confirmation; Cancel first changes nothing', async () => {
    const row = page.getByTestId(`user-row-${added}`);
    await row.getByRole('button', { name: `Remove ${added}` }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove user' });
    await confirm.getByText('They are signed out at once and can no longer log in.').waitFor();
    expect(await confirm.locator('.confirm-name').textContent()).toBe(added);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect((await apiUsers(ownerToken)).map((u) => u.email)).toEqual([added, ownerEmail]);
    expect(await row.count()).toBe(1);

    await row.getByRole('button', { name: `Remove ${added}` }).click();
    await confirm.getByRole('button', { name: 'Remove user' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await page
      .getByRole('status')
      .filter({ hasText: `${added} was removed.` })
      .waitFor();
    await row.waitFor({ state: 'detached' });
    expect((await apiUsers(ownerToken)).map((u) => u.email)).toEqual([ownerEmail]);
    const login = await gqlAt(
      server().url,
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }`,
      { e: added, p: PASSWORD },
    );
    expect(login.data.login.__typename).toBe('InvalidCredentialsError');
  });

  it('shows the free and scale limits with the current plan marked', async () => {
    const table = page.getByTestId('plans-table');
    expect(await tableText(table)).toEqual([
      ['Limit', 'Free current', 'Scale'],
      ['Tenants', '3', '100'],
      ['API keys per tenant', '5', '50'],
      ['Active series', '10,000', '20,000'],
      ['Logs per month', '50 GB', '1,000 GB'],
    ]);
    // The same figures as the API's plans.
    const plans = await gqlAt(
      server().url,
      '{ plans { name limits { maxTenants maxApiKeysPerTenant maxActiveSeries maxLogsGbPerMonth } } }',
      {},
      ownerToken,
    );
    expect(plans.data.plans).toEqual([
      {
        name: 'free',
        limits: {
          maxTenants: 3,
          maxApiKeysPerTenant: 5,
          maxActiveSeries: 10_000,
          maxLogsGbPerMonth: 50,
        },
      },
      {
        name: 'scale',
        limits: {
          maxTenants: 100,
          maxApiKeysPerTenant: 50,
          maxActiveSeries: 20_000,
          maxLogsGbPerMonth: 1_000,
        },
      },
    ]);
    expect(
      await table.locator('thead th[aria-current="true"]').evaluateAll((ths) => ths.length),
    ).toBe(1);
    expect(await table.locator('thead th[aria-current="true"]').textContent()).toMatch(/^Free/);
    expect(await page.getByTestId('current-plan').textContent()).toBe('Free');
    await page.getByText('using 0 of 3 tenants').waitFor();
    expect(await table.locator('tfoot').getByText('Your plan').count()).toBe(1);
    expect(await table.getByRole('button').allTextContents()).toEqual(['Switch to Scale']);
  });

  it('an owner switches to scale; the API and the tenants page follow', async () => {
    await page.getByRole('button', { name: 'Switch to Scale' }).click();
    const dialog = page.getByRole('dialog', { name: 'Switch to the Scale plan' });
    await dialog.getByText('Tenants: 3 → 100').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Switch to Scale' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page
      .getByRole('status')
      .filter({ hasText: 'The organisation is now on the Scale plan.' })
      .waitFor();
    await expect.poll(() => page.getByTestId('current-plan').textContent()).toBe('Scale');
    expect(
      await page.getByTestId('plans-table').locator('thead th[aria-current]').textContent(),
    ).toMatch(/^Scale/);
    expect(await apiPlan(ownerToken)).toBe('scale');

    await page.getByRole('link', { name: 'Tenants', exact: true }).first().click();
    await expect
      .poll(() => page.getByTestId('tenant-count').textContent(), { timeout: 5_000 })
      .toBe('0 of 100 tenants on the scale plan');
  });

  it('refuses a downgrade to free with 4 tenants, saying how many to delete', async () => {
    for (let i = 1; i <= 4; i++) {
      await createTenant(server(), ownerToken, { displayName: `Scale Tenant ${i}` });
    }
    await page.goto(`${server().url}/ui/users`);
    await page.getByText('using 4 of 100 tenants').waitFor();
    await page.getByRole('button', { name: 'Switch to Free' }).click();
    const dialog = page.getByRole('dialog', { name: 'Switch to the Free plan' });
    await dialog.getByText('the portal will refuse until enough are deleted').waitFor();
    await dialog.getByRole('button', { name: 'Switch to Free' }).click();
    const error = dialog.getByTestId('plan-change-error');
    await error.waitFor();
    expect(await error.textContent()).toBe(
      'The Free plan allows at most 3 tenants and the organisation has 4: delete 1 first, then switch.',
    );
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await apiPlan(ownerToken)).toBe('scale');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByTestId('current-plan').textContent()).toBe('Scale');
  });

  it('an admin adds and removes non-owners only, never grants owner, cannot change the plan', async () => {
    const adminEmail = uniqueEmail('admin');
    const viewerEmail = uniqueEmail('member');
    await createUser(ownerToken, adminEmail, 'admin');
    await createUser(ownerToken, viewerEmail, 'viewer');
    const admin = await openPage(browser(), server().url);
    try {
      await logIn(admin.page, adminEmail);
      await openUsers(admin.page);
      const p = admin.page;
      // Their own row: "(you)" and nothing to press.
      const own = p.getByTestId(`user-row-${adminEmail}`);
      expect(await own.locator('th').textContent()).toBe(`${adminEmail} (you)`);
      expect(await controlsIn(own).count()).toBe(0);
      // The owner: a role as text, no Remove.
      const owner = p.getByTestId(`user-row-${ownerEmail}`);
      expect(await owner.locator('.role-text').textContent()).toBe('owner');
      expect(await controlsIn(owner).count()).toBe(0);
      // A viewer: a role select without owner, and Remove.
      const member = p.getByTestId(`user-row-${viewerEmail}`);
      expect(await optionValues(member.getByLabel(`Role of ${viewerEmail}`))).toEqual([
        'admin',
        'viewer',
      ]);
      expect(await member.getByRole('button', { name: `Remove ${viewerEmail}` }).count()).toBe(1);
      // No owner in any role select on the page.
      for (const select of await p.locator('main select').all()) {
        expect(await optionValues(select)).not.toContain('owner');
      }

      await p.getByRole('button', { name: 'Add user' }).click();
      const dialog = p.getByRole('dialog', { name: 'Add a user' });
      expect(await optionValues(dialog.getByLabel('Role'))).toEqual(['admin', 'viewer']);
      await p.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });

      // The plan: shown, not changeable.
      await p.getByText('Only an owner can change the plan.').waitFor();
      expect(await p.getByTestId('plans-table').getByRole('button').count()).toBe(0);
      expect(await p.getByRole('button', { name: /^Switch to/ }).count()).toBe(0);
      expect(await axeViolations(p)).toEqual([]);

      // And the remove they are offered works.
      await member.getByRole('button', { name: `Remove ${viewerEmail}` }).click();
      const confirm = p.getByRole('dialog', { name: 'Remove user' });
      await confirm.getByRole('button', { name: 'Remove user' }).click();
      await member.waitFor({ state: 'detached' });
      expect((await apiUsers(ownerToken)).map((u) => u.email)).toEqual([adminEmail, ownerEmail]);
      admin.guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    } finally {
      await admin.context.close();
    }
  });

  it('a viewer sees the users and the plan, and no control that changes anything', async () => {
    const viewerEmail = uniqueEmail('viewer');
    await createUser(ownerToken, viewerEmail, 'viewer');
    const viewer = await openPage(browser(), server().url);
    try {
      await logIn(viewer.page, viewerEmail);
      await openUsers(viewer.page);
      const p = viewer.page;
      const listed = await p
        .getByTestId('users-table')
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-testid')));
      expect(listed).toHaveLength(3);
      expect(listed).toContain(`user-row-${ownerEmail}`);
      expect(listed).toContain(`user-row-${viewerEmail}`);
      await p
        .getByText('You are a viewer: only owners and admins add, change or remove users.')
        .waitFor();
      await p.getByText('Only an owner can change the plan.').waitFor();
      expect(await p.getByTestId('current-plan').textContent()).toBe('Scale');
      expect(await controlsIn(p.locator('main')).count()).toBe(0);
      expect(await p.getByTestId('users-table').locator('.role-text').allTextContents()).toEqual(
        expect.arrayContaining(['owner', 'admin', 'viewer']),
      );
      expect(await axeViolations(p)).toEqual([]);
      viewer.guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    } finally {
      await viewer.context.close();
    }
  });

  it("the owner's page made no off-origin request and hit no CSP violation", () => {
    guardClean();
  });
});
