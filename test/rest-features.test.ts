import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';
import { bearer, verifyRequest } from './helpers/http.ts';
import { type RestCall, restAs, restCall, restSignup } from './helpers/rest.ts';

/** The GraphQL features (suspension, scopes, expiry, rotation, users, passwords) in REST style. */
const server = useTestServer();
let owner = '';
const as = (token: string) => restAs(server().url, token);
const api = (method: string, path: string, c: RestCall = {}) => as(owner)(method, path, c);
const verify = (key: string) => verifyRequest(server().url, bearer(key));
const signup = (name: string) => restSignup(server().url, name, PASSWORD);

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
