import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { type AuditRow, auditMark, eventsAfter, gqlFrom } from './helpers/audit.ts';
import {
  createApiKey,
  createTenant,
  PASSWORD,
  signupOrg,
  uniqueEmail,
} from './helpers/factories.ts';
import { restCall } from './helpers/rest.ts';

/**
 * Every change writes exactly one audit event, in the change's own transaction, with who, what,
 * which object, when, from which address and the outcome. Refused changes write none; failed
 * credential checks write one `failure`; a change whose transaction rolls back leaves nothing.
 * Events are read straight from the table here (audit-read.test.ts covers the doors).
 */
const T0 = new Date('2026-06-18T10:00:00Z');
const clock = new ManualClock(T0);
// Replays the previous bytes of each size while set: the next session row collides, so the
// login's transaction fails after its audit insert (a real rollback, through the real door).
let replay = false;
const last = new Map<number, Buffer>();
const random = (size: number) => {
  const previous = last.get(size);
  if (replay && previous) return previous;
  const fresh = randomBytes(size);
  last.set(size, fresh);
  return fresh;
};
const server = useTestServer({
  env: { TRUSTED_PROXIES: '127.0.0.1' },
  overrides: { clock, random },
});

const ADDRESS = '203.0.113.7';
const gql = (query: string, variables: Record<string, unknown> = {}, token?: string) =>
  gqlFrom(server(), ADDRESS, query, variables, token);

/** Runs `act` and returns the events it wrote. */
async function during(act: () => Promise<unknown>): Promise<AuditRow[]> {
  const mark = await auditMark(server());
  await act();
  return eventsAfter(server(), mark);
}

const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  __typename ... on AuthPayload { token } } }`;

async function orgIdOf(token: string): Promise<string> {
  return (await gql('{ organisation { id } }', {}, token)).data.organisation.id;
}

describe('audit events are written with the change', () => {
  it('signup, login (success, wrong password, unknown email) and logout', async () => {
    const email = uniqueEmail('audit');
    let token = '';
    let userId = '';
    const signup = await during(async () => {
      const res = await gql(
        `mutation($e: String!, $p: String!) { signup(organisationName: "Audit", email: $e, password: $p) {
          ... on AuthPayload { token user { id } } } }`,
        { e: email, p: PASSWORD },
      );
      token = res.data.signup.token;
      userId = res.data.signup.user.id;
    });
    const orgId = await orgIdOf(token);
    expect(signup).toEqual([
      expect.objectContaining({
        organisationId: orgId,
        actorId: userId,
        action: 'auth.signup',
        objectType: 'organisation',
        objectId: orgId,
        outcome: 'success',
        sourceAddress: ADDRESS,
        at: T0,
      }),
    ]);

    clock.advance(1000);
    const login = await during(() => gql(LOGIN, { e: email, p: PASSWORD }));
    expect(login).toEqual([
      expect.objectContaining({
        organisationId: orgId,
        actorId: userId,
        action: 'auth.login',
        objectType: 'user',
        objectId: userId,
        outcome: 'success',
        sourceAddress: ADDRESS,
        at: new Date(T0.getTime() + 1000),
      }),
    ]);

    // No one is signed in: no actor; the account's organisation sees it; the password never.
    const wrong = await during(() => gql(LOGIN, { e: email, p: 'Wrong-Password-1' }));
    expect(wrong).toEqual([
      expect.objectContaining({
        organisationId: orgId,
        actorId: null,
        action: 'auth.login',
        objectType: 'user',
        objectId: userId,
        outcome: 'failure',
        sourceAddress: ADDRESS,
      }),
    ]);
    expect(JSON.stringify(wrong)).not.toContain('Wrong-Password-1');

    // An unknown email belongs to no organisation, and its text is not kept.
    const unknownEmail = uniqueEmail('nobody');
    const unknown = await during(() => gql(LOGIN, { e: unknownEmail, p: PASSWORD }));
    expect(unknown).toEqual([
      expect.objectContaining({
        organisationId: null,
        actorId: null,
        action: 'auth.login',
        objectType: null,
        objectId: null,
        outcome: 'failure',
        sourceAddress: ADDRESS,
      }),
    ]);
    expect(JSON.stringify(unknown)).not.toContain(unknownEmail);

    const logout = await during(() => gql('mutation { logout }', {}, token));
    expect(logout).toEqual([
      expect.objectContaining({
        organisationId: orgId,
        actorId: userId,
        action: 'auth.logout',
        objectType: 'user',
        objectId: userId,
        outcome: 'success',
      }),
    ]);
    // Already ended: the token is refused and nothing more is written.
    expect(await during(() => gql('mutation { logout }', {}, token))).toEqual([]);
  });

  it("the browser's cookie logout records auth.logout with the address", async () => {
    const org = await signupOrg(server(), 'Audit Cookie');
    const login = await gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
        ... on AuthPayload { refreshToken } } }`,
      { e: org.email, p: PASSWORD },
    );
    const refresh = login.data.login.refreshToken as string;
    const host = new URL(server().url).host;
    const cookieLogout = () =>
      fetch(`${server().url}/auth/session`, {
        method: 'DELETE',
        headers: {
          origin: server().url,
          host,
          cookie: `xs_refresh=${refresh}`,
          'x-forwarded-for': '198.51.100.9',
        },
      });
    const events = await during(async () => {
      expect((await cookieLogout()).status).toBeLessThan(300);
    });
    expect(events).toEqual([
      expect.objectContaining({
        actorId: org.userId,
        action: 'auth.logout',
        objectType: 'user',
        objectId: org.userId,
        outcome: 'success',
        sourceAddress: '198.51.100.9',
      }),
    ]);
    // Ended already: nothing more.
    expect(await during(() => cookieLogout())).toEqual([]);
  });

  it('tenants: create, update, suspend, resume, delete; refused by the plan: nothing', async () => {
    const org = await signupOrg(server(), 'Audit Tenants');
    const orgId = await orgIdOf(org.token);
    const base = { organisationId: orgId, actorId: org.userId, outcome: 'success' };
    const one = (action: string, id: string) =>
      expect.objectContaining({
        ...base,
        action,
        objectType: 'tenant',
        objectId: id,
        sourceAddress: ADDRESS,
      });

    let id = '';
    const created = await during(async () => {
      const res = await gql(
        `mutation { createTenant(displayName: "Audit One", environment: prod) { ... on Tenant { id } } }`,
        {},
        org.token,
      );
      id = res.data.createTenant.id;
    });
    expect(created).toEqual([one('tenant.created', id)]);
    for (const [mutation, action] of [
      [`updateTenant(id: $id, displayName: "Renamed")`, 'tenant.updated'],
      [`suspendTenant(id: $id)`, 'tenant.suspended'],
      [`resumeTenant(id: $id)`, 'tenant.resumed'],
      [`deleteTenant(id: $id)`, 'tenant.deleted'],
    ] as const) {
      const events = await during(async () => {
        const res = await gql(
          `mutation($id: ID!) { ${mutation} { __typename } }`,
          { id },
          org.token,
        );
        expect(res.errors).toBeUndefined();
      });
      expect(events).toEqual([one(action, id)]);
    }
    // A tenant that is gone is not found: nothing changed, nothing written.
    expect(
      await during(() =>
        gql(`mutation($id: ID!) { suspendTenant(id: $id) { __typename } }`, { id }, org.token),
      ),
    ).toEqual([]);

    // The free plan's 3 tenants, then a 4th refused by the plan: no event, not even a failure.
    for (const n of [1, 2, 3])
      await createTenant(server(), org.token, { displayName: `Fill ${n}` });
    const refused = await during(async () => {
      const res = await gql(
        `mutation { createTenant(displayName: "Too Many", environment: dev) { __typename } }`,
        {},
        org.token,
      );
      expect(res.data.createTenant.__typename).toBe('PlanLimitExceededError');
    });
    expect(refused).toEqual([]);

    // Through REST too: a change of a tenant that is gone is a 404 and writes nothing.
    const rest = await during(async () => {
      const res = await restCall(server().url, 'PATCH', `/tenants/${id}`, {
        token: org.token,
        body: { display_name: 'Gone' },
      });
      expect(res.status).toBe(404);
    });
    expect(rest).toEqual([]);
  });

  it('REST changes record the client address from X-Forwarded-For', async () => {
    const org = await signupOrg(server(), 'Audit REST');
    const events = await during(async () => {
      const res = await restCall(server().url, 'POST', '/tenants', {
        token: org.token,
        body: { display_name: 'Via REST', environment: 'dev' },
        headers: { 'x-forwarded-for': '198.51.100.23' },
      });
      expect(res.status).toBe(201);
    });
    expect(events).toEqual([
      expect.objectContaining({
        actorId: org.userId,
        action: 'tenant.created',
        objectType: 'tenant',
        sourceAddress: '198.51.100.23',
      }),
    ]);
  });

  it('API keys: create, roll, revoke; a second revoke changes nothing and writes nothing', async () => {
    const org = await signupOrg(server(), 'Audit Keys');
    const tenant = await createTenant(server(), org.token);
    let keyId = '';
    const created = await during(async () => {
      keyId = (await createApiKey(server(), org.token, tenant.id)).id;
    });
    const key = (action: string) =>
      expect.objectContaining({
        actorId: org.userId,
        action,
        objectType: 'api_key',
        objectId: keyId,
        outcome: 'success',
      });
    expect(created).toEqual([key('api_key.created')]);
    const rolled = await during(() =>
      gql(
        `mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 0) { __typename } }`,
        { id: keyId },
        org.token,
      ),
    );
    expect(rolled).toEqual([key('api_key.rolled')]);
    const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`;
    expect(await during(() => gql(REVOKE, { id: keyId }, org.token))).toEqual([
      key('api_key.revoked'),
    ]);
    expect(await during(() => gql(REVOKE, { id: keyId }, org.token))).toEqual([]);
    // A revoked key cannot be rolled: refused, nothing written.
    expect(
      await during(() =>
        gql(
          `mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 0) { __typename } }`,
          { id: keyId },
          org.token,
        ),
      ),
    ).toEqual([]);
  });

  it('users and roles, plan changes, password changes; viewers refused write nothing', async () => {
    const org = await signupOrg(server(), 'Audit Users');
    const orgId = await orgIdOf(org.token);
    const viewerEmail = uniqueEmail('viewer');
    let viewerId = '';
    const created = await during(async () => {
      const res = await gql(
        `mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: viewer) { ... on User { id } } }`,
        { e: viewerEmail, p: PASSWORD },
        org.token,
      );
      viewerId = res.data.createUser.id;
    });
    const user = (action: string) =>
      expect.objectContaining({
        organisationId: orgId,
        actorId: org.userId,
        action,
        objectType: 'user',
        objectId: viewerId,
        outcome: 'success',
        sourceAddress: ADDRESS,
      });
    expect(created).toEqual([user('user.created')]);

    // The viewer's refused change: forbidden, and nothing in the log.
    const viewer = (await gql(LOGIN, { e: viewerEmail, p: PASSWORD })).data.login.token;
    const forbidden = await during(async () => {
      const res = await gql(
        `mutation { createTenant(displayName: "Nope", environment: dev) { __typename } }`,
        {},
        viewer,
      );
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
    expect(forbidden).toEqual([]);

    const ROLE = `mutation($id: ID!, $r: Role!) { updateUserRole(id: $id, role: $r) { __typename } }`;
    expect(await during(() => gql(ROLE, { id: viewerId, r: 'admin' }, org.token))).toEqual([
      user('user.role_changed'),
    ]);
    // The same role again changes nothing.
    expect(await during(() => gql(ROLE, { id: viewerId, r: 'admin' }, org.token))).toEqual([]);
    // The last owner cannot be demoted: refused, nothing written.
    expect(await during(() => gql(ROLE, { id: org.userId, r: 'viewer' }, org.token))).toEqual([]);
    expect(
      await during(() =>
        gql(
          `mutation($id: ID!) { removeUser(id: $id) { __typename } }`,
          { id: viewerId },
          org.token,
        ),
      ),
    ).toEqual([user('user.removed')]);

    const PLAN = `mutation($p: BillingPlan!) { changePlan(plan: $p) { __typename } }`;
    expect(await during(() => gql(PLAN, { p: 'scale' }, org.token))).toEqual([
      expect.objectContaining({
        actorId: org.userId,
        action: 'organisation.plan_changed',
        objectType: 'organisation',
        objectId: orgId,
        outcome: 'success',
      }),
    ]);
    // A downgrade that the tenants would not fit is refused: nothing written.
    for (const n of [1, 2, 3, 4]) await createTenant(server(), org.token, { displayName: `T${n}` });
    const downgrade = await during(async () => {
      const res = await gql(PLAN, { p: 'free' }, org.token);
      expect(res.data.changePlan.__typename).toBe('PlanLimitExceededError');
    });
    expect(downgrade).toEqual([]);

    const PASSWORD_CHANGE = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
      __typename ... on AuthPayload { token } } }`;
    const me = (outcome: string) =>
      expect.objectContaining({
        organisationId: orgId,
        actorId: org.userId,
        action: 'user.password_changed',
        objectType: 'user',
        objectId: org.userId,
        outcome,
        sourceAddress: ADDRESS,
      });
    expect(
      await during(() =>
        gql(PASSWORD_CHANGE, { c: 'Not-The-Password-1', n: 'New-Password-99' }, org.token),
      ),
    ).toEqual([me('failure')]);
    const changed = await during(async () => {
      const res = await gql(PASSWORD_CHANGE, { c: PASSWORD, n: 'New-Password-99' }, org.token);
      expect(res.data.changePassword.__typename).toBe('AuthPayload');
    });
    expect(changed).toEqual([me('success')]);
    expect(JSON.stringify(changed)).not.toContain('New-Password-99');
  });

  it('a change whose transaction rolls back leaves no event (not even a success)', async () => {
    const org = await signupOrg(server(), 'Audit Rollback');
    await gql(LOGIN, { e: org.email, p: PASSWORD });
    // The next login draws the same session ID and refresh token: the session insert fails
    // after the login's audit insert, in the same transaction.
    replay = true;
    try {
      const events = await during(async () => {
        const res = await gql(LOGIN, { e: org.email, p: PASSWORD });
        expect(res.data?.login?.__typename).not.toBe('AuthPayload');
        expect(res.errors?.[0]?.message).toBe('Unexpected error.');
      });
      expect(events).toEqual([]);
    } finally {
      replay = false;
    }
    expect(await during(() => gql(LOGIN, { e: org.email, p: PASSWORD }))).toEqual([
      expect.objectContaining({ action: 'auth.login', outcome: 'success' }),
    ]);
  });
});
