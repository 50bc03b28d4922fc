import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD } from './helpers/factories.ts';
import { type RestCall, restAs, restCall, restSignup } from './helpers/rest.ts';
import { expectError } from './helpers/rest-matrix.ts';

/** The status of every domain error, value checks beyond types, and the OpenAPI document. */
const server = useTestServer();
let owner = '';
const as = (token: string) => restAs(server().url, token);
const api = (method: string, path: string, c: RestCall = {}) => as(owner)(method, path, c);
const signup = (name: string) => restSignup(server().url, name, PASSWORD);
const ids = { tenant: '' };

beforeAll(async () => {
  owner = (await signup('Errors Org')).token;
  ids.tenant = (
    await api('POST', '/tenants', { body: { display_name: 'Payments', environment: 'prod' } })
  ).json.id;
});

describe('values', () => {
  it('checks values of query parameters and dates', async () => {
    expectError(
      await api('GET', '/tenants?environment=qa'),
      400,
      'validation_error',
      'environment',
    );
    expectError(
      await api('GET', '/tenants?environment=prod&environment=dev'),
      400,
      'validation_error',
      'environment',
    );
    expectError(
      await api('GET', '/dashboard/org/history?from=yesterday'),
      400,
      'validation_error',
      'from',
    );
    const keys = `/tenants/${ids.tenant}/keys`;
    for (const expires_at of ['tomorrow', '2026-02-30T10:00:00Z', '2000-01-01T00:00:00Z']) {
      const reply = await api('POST', keys, { body: { display_name: 'k', expires_at } });
      expectError(reply, 400, 'validation_error', 'expires_at');
    }
    expectError(
      await api('POST', keys, { body: { display_name: 'k', scopes: ['root'] } }),
      400,
      'validation_error',
      'scopes.0',
    );
    expectError(
      await api('PATCH', `/tenants/${ids.tenant}`, { body: {} }),
      400,
      'validation_error',
    );
    expectError(
      await api('POST', '/tenants', { body: { display_name: 'a\u0000b', environment: 'dev' } }),
      400,
      'validation_error',
      'display_name',
    );
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

  it('answers a taken email at signup as a wrong-password login (401), a foreign tenant with 404', async () => {
    const { email } = await signup('Twice');
    const again = await restCall(server().url, 'POST', '/auth/signup', {
      body: { organisation_name: 'Twice', email, password: PASSWORD },
    });
    const bad = await restCall(server().url, 'POST', '/auth/login', {
      body: { email, password: 'wrong-one' },
    });
    expect(bad.json).toEqual({
      error: 'invalid_credentials',
      message: 'Invalid email or password',
    });
    expect(bad.status).toBe(401);
    // Signup never says the email exists: the same status and body as the wrong password.
    expect([again.status, again.text]).toEqual([bad.status, bad.text]);

    const created = await api('POST', '/tenants', {
      body: { display_name: 'Mine', environment: 'dev' },
    });
    expect(created.status).toBe(201);
    const mine = created.json;
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
