import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';
import { bearer, verifyRequest } from './helpers/http.ts';
import { type RestCall, restCall } from './helpers/rest.ts';

/** The GraphQL features in REST style, and the status of every domain error. */
const server = useTestServer();
let owner = '';
const as =
  (token: string) =>
  (method: string, path: string, c: RestCall = {}) =>
    restCall(server().url, method, path, { token, ...c });
const api = (method: string, path: string, c: RestCall = {}) => as(owner)(method, path, c);
const verify = (key: string) => verifyRequest(server().url, bearer(key));

async function signup(name: string) {
  const email = uniqueEmail('owner');
  const reply = await restCall(server().url, 'POST', '/auth/signup', {
    body: { organisation_name: name, email, password: PASSWORD },
  });
  expect(reply.status).toBe(201);
  return { token: reply.json.token as string, email };
}

/** A tenant of the owner's organisation (on the Scale plan, so the tests are not limited). */
async function newTenant(display_name: string, environment = 'dev') {
  const reply = await api('POST', '/tenants', { body: { display_name, environment } });
  expect(reply.status, reply.text).toBe(201);
  return reply.json as { id: string; display_name: string };
}

async function newKey(tenantId: string, body: Record<string, unknown> = { display_name: 'k' }) {
  const reply = await api('POST', `/tenants/${tenantId}/keys`, { body });
  expect(reply.status, reply.text).toBe(201);
  return reply.json;
}

beforeAll(async () => {
  owner = (await signup('Features Org')).token;
  expect((await api('PUT', '/organisation/plan', { body: { plan: 'scale' } })).status).toBe(200);
});

describe('REST routes for the GraphQL features', () => {
  it('suspends and resumes a tenant: its keys are refused meanwhile', async () => {
    const tenant = await newTenant('Edge', 'prod');
    const { key } = await newKey(tenant.id);
    expect((await verify(key)).status).toBe(200);
    const suspended = await api('POST', `/tenants/${tenant.id}/suspend`);
    expect(suspended.json).toMatchObject({ id: tenant.id, status: 'suspended' });
    expect((await verify(key)).status).toBe(401);
    expect((await api('POST', `/tenants/${tenant.id}/resume`)).json.status).toBe('active');
    expect((await verify(key)).status).toBe(200);
  });

  it('creates keys with scopes and expiry, and rolls them with a grace period', async () => {
    const tenant = await newTenant('Logs', 'dev');
    const created = await api('POST', `/tenants/${tenant.id}/keys`, {
      body: {
        display_name: 'logs only',
        scopes: ['logs:write'],
        expires_at: '2099-01-01T00:00:00Z',
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      scopes: ['logs:write'],
      expires_at: '2099-01-01T00:00:00Z',
      prefix: created.json.key.slice(0, 8),
      client_config: { prometheus_remote_write: null, grafana_alloy: expect.any(Array) },
    });
    expect(created.json.client_config.opentelemetry_collector.join('\n')).toContain(
      created.json.key,
    );
    expect((await verifyRequest(server().url, bearer(created.json.key), 'logs:write')).status).toBe(
      200,
    );
    expect(
      (await verifyRequest(server().url, bearer(created.json.key), 'metrics:write')).status,
    ).toBe(403);

    const rollPath = `/tenants/${tenant.id}/keys/${created.json.id}/roll`;
    const rolled = await api('POST', rollPath, { body: { grace_period_seconds: 3600 } });
    expect(rolled.json).toMatchObject({
      id: created.json.id,
      previous_prefix: created.json.prefix,
    });
    expect(rolled.json.key).not.toBe(created.json.key);
    const logs = (k: string) => verifyRequest(server().url, bearer(k), 'logs:write');
    expect((await logs(created.json.key)).status).toBe(200);
    const again = await api('POST', rollPath, { body: { grace_period_seconds: 0 } });
    expect((await logs(rolled.json.key)).status).toBe(401);
    expect((await logs(again.json.key)).status).toBe(200);
  });

  it('refuses a key of one tenant under the path of another', async () => {
    const a = await newTenant('A', 'dev');
    const b = await newTenant('B', 'dev');
    const key = await newKey(a.id);
    expect((await api('DELETE', `/tenants/${b.id}/keys/${key.id}`)).status).toBe(404);
    expect((await verify(key.key)).status).toBe(200);
    const revoked = await api('DELETE', `/tenants/${a.id}/keys/${key.id}`);
    expect(revoked.json.revoked_at).toMatch(/Z$/);
    expect((await verify(key.key)).status).toBe(401);
  });

  it('deletes a tenant: gone from lists and lookups, its keys refused', async () => {
    const tenant = await newTenant('Gone', 'dev');
    const { key } = await newKey(tenant.id);
    const deleted = await api('DELETE', `/tenants/${tenant.id}`);
    expect(deleted.json).toEqual({ id: tenant.id, deleted_at: expect.stringMatching(/Z$/) });
    expect((await api('GET', `/tenants/${tenant.id}`)).status).toBe(404);
    expect((await api('GET', '/tenants')).json.map((t: { id: string }) => t.id)).not.toContain(
      tenant.id,
    );
    expect((await verify(key)).status).toBe(401);
  });

  it('manages users, roles and passwords', async () => {
    const email = uniqueEmail('viewer');
    const user = await api('POST', '/users', {
      body: { email, password: PASSWORD, role: 'viewer' },
    });
    expect(user.status).toBe(201);
    expect((await api('GET', '/users')).json.map((u: { email: string }) => u.email)).toContain(
      email,
    );
    const login = await restCall(server().url, 'POST', '/auth/login', {
      body: { email, password: PASSWORD },
    });
    const viewer = as(login.json.token);
    expect((await viewer('GET', '/users/me')).json).toMatchObject({ email, role: 'viewer' });
    expect((await viewer('GET', '/tenants')).status).toBe(200);
    const refused = await viewer('POST', '/tenants', {
      body: { display_name: 'X', environment: 'dev' },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toBe('forbidden');
    expect((await viewer('PUT', '/organisation/plan', { body: { plan: 'scale' } })).status).toBe(
      403,
    );

    const changed = await viewer('POST', '/auth/password', {
      body: { current_password: PASSWORD, new_password: 'Another-Horse-10' },
    });
    expect(changed.status).toBe(200);
    expect((await viewer('GET', '/users/me')).status).toBe(401);
    expect((await as(changed.json.token)('GET', '/users/me')).status).toBe(200);
    const wrong = await as(changed.json.token)('POST', '/auth/password', {
      body: { current_password: 'not-it', new_password: 'Third-Horse-11' },
    });
    expect(wrong.json).toMatchObject({ error: 'validation_error', field: 'current_password' });

    expect((await api('DELETE', `/users/${user.json.id}`)).status).toBe(200);
    expect((await as(changed.json.token)('GET', '/users/me')).status).toBe(401);
  });
});

describe('domain errors', () => {
  it('answers the free plan limit with 402 plan_limit_exceeded, lifted by the plan change', async () => {
    const org = as((await signup('Small Org')).token);
    for (const env of ['prod', 'staging', 'dev']) {
      expect(
        (await org('POST', '/tenants', { body: { display_name: `S ${env}`, environment: env } }))
          .status,
      ).toBe(201);
    }
    const fourth = await org('POST', '/tenants', {
      body: { display_name: 'S4', environment: 'dev' },
    });
    expect(fourth.status).toBe(402);
    expect(fourth.json).toMatchObject({
      error: 'plan_limit_exceeded',
      plan: 'free',
      limit: 'tenants',
      max: 3,
    });
    expect((await org('GET', '/tenants')).json).toHaveLength(3);

    const plan = await org('PUT', '/organisation/plan', { body: { plan: 'scale' } });
    expect(plan.json).toMatchObject({ billing_plan: 'scale', plan_limits: { max_tenants: 100 } });
    expect(
      (await org('POST', '/tenants', { body: { display_name: 'S4', environment: 'dev' } })).status,
    ).toBe(201);
    const down = await org('PUT', '/organisation/plan', { body: { plan: 'free' } });
    expect(down.status).toBe(402);
    expect((await org('GET', '/dashboard/org/summary')).json.billing_plan).toBe('scale');
  });

  it('answers a taken email with 409, wrong credentials with 401, a foreign tenant with 404', async () => {
    const { email } = await signup('Twice');
    const again = await restCall(server().url, 'POST', '/auth/signup', {
      body: { organisation_name: 'Twice', email, password: PASSWORD },
    });
    expect(again.status).toBe(409);
    expect(again.json.error).toBe('conflict');
    const bad = await restCall(server().url, 'POST', '/auth/login', {
      body: { email, password: 'wrong-one' },
    });
    expect(bad.json).toEqual({
      error: 'invalid_credentials',
      message: 'Invalid email or password',
    });
    expect(bad.status).toBe(401);

    const mine = await newTenant('Mine', 'dev');
    const other = as((await signup('Other Org')).token);
    for (const [method, path] of [
      ['GET', `/tenants/${mine.id}`],
      ['GET', `/tenants/${mine.id}/keys`],
      ['DELETE', `/tenants/${mine.id}`],
      ['GET', `/dashboard/tenants/${mine.id}/usage`],
    ] as const) {
      const reply = await other(method, path);
      expect(reply.status).toBe(404);
      expect(reply.text).not.toContain('Mine');
    }
    expect((await api('GET', `/tenants/${mine.id}`)).status).toBe(200);
  });
});

describe('dashboard and OpenAPI', () => {
  it('serves history and the usage sync state', async () => {
    expect((await api('GET', '/dashboard/org/history')).json).toEqual([]);
    const range = await api(
      'GET',
      '/dashboard/org/history?from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z',
    );
    expect(range.json).toMatchObject({ error: 'validation_error', field: 'to' });
    expect((await api('GET', '/dashboard/usage-sync')).json).toMatchObject({
      source_configured: false,
    });
  });

  it('publishes an OpenAPI 3.1 document of every route', async () => {
    const doc = (await restCall(server().url, 'GET', '/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    const login = doc.paths['/auth/login'].post;
    expect(login.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      required: ['email', 'password'],
      additionalProperties: false,
    });
    expect(Object.keys(login.responses)).toContain('429');
    const create = doc.paths['/tenants'].post;
    expect(
      create.requestBody.content['application/json'].schema.properties.display_name,
    ).toMatchObject({
      type: 'string',
      maxLength: 100,
    });
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '401', '402']));
    expect(create.security).toEqual([{ bearer: [] }]);
  });
});
