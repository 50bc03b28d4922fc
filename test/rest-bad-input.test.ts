import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';
import { type RestCall, restCall } from './helpers/rest.ts';
import {
  documentedOperations,
  expectError,
  type Operation,
  VALID_BODIES,
  validBody,
} from './helpers/rest-matrix.ts';

/**
 * Every route of /openapi.json gets the same bad inputs; each must be refused with its 4xx and
 * the {"error","message"} body, never a 500, and nothing may be written.
 */
const server = useTestServer();
const ids = { token: '', tenant: '', key: '', user: '' };
const call = (method: string, path: string, c: RestCall = {}) =>
  restCall(server().url, method, path, { token: ids.token, ...c });

let operations: Operation[] = [];
const methodsOf = (path: string) => operations.filter((o) => o.path === path).map((o) => o.method);
const fill = (path: string) =>
  path
    .replace('/users/{id}', `/users/${ids.user}`)
    .replace('{id}', ids.tenant)
    .replace('{key_id}', ids.key);

beforeAll(async () => {
  const email = uniqueEmail('owner');
  const signup = await restCall(server().url, 'POST', '/auth/signup', {
    body: { organisation_name: 'Bad Input Org', email, password: PASSWORD },
  });
  ids.token = signup.json.token;
  ids.tenant = (
    await call('POST', '/tenants', { body: { display_name: 'Payments', environment: 'prod' } })
  ).json.id;
  ids.key = (
    await call('POST', `/tenants/${ids.tenant}/keys`, { body: { display_name: 'k' } })
  ).json.id;
  const user = await call('POST', '/users', {
    body: { email: uniqueEmail('viewer'), password: PASSWORD, role: 'viewer' },
  });
  ids.user = user.json.id;

  operations = await documentedOperations(server().url);
});

describe('the bad-input matrix', () => {
  it('covers every route, with a valid body for each route that takes one', () => {
    expect(operations.length).toBeGreaterThanOrEqual(24);
    const withBody = operations.filter((o) => o.body).map((o) => `${o.method} ${o.path}`);
    expect(withBody.sort()).toEqual(Object.keys(VALID_BODIES).sort());
  });

  it('refuses missing and invalid tokens with 401 on every secured route', async () => {
    for (const op of operations.filter((o) => o.secured)) {
      for (const authorization of [undefined, 'Bearer not-a-jwt', 'Basic dXNlcjpwYXNz']) {
        const headers = authorization ? { authorization } : undefined;
        const reply = await restCall(server().url, op.method, fill(op.path), { headers });
        expectError(reply, 401, 'unauthenticated');
        expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
  });

  it('answers a wrong method with 405 and the allowed methods', async () => {
    for (const path of new Set(operations.map((o) => o.path))) {
      const allowed = methodsOf(path);
      const wrong = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].find((m) => !allowed.includes(m))!;
      const reply = await call(wrong, fill(path));
      expectError(reply, 405, 'method_not_allowed');
      expect(reply.headers.get('allow')?.split(', ').sort()).toEqual([...allowed].sort());
    }
  });

  it('refuses unknown query parameters and unknown body fields', async () => {
    for (const op of operations) {
      expectError(
        await call(op.method, `${fill(op.path)}?bogus=1`),
        400,
        'validation_error',
        'bogus',
      );
      const body = { ...validBody(op), surprise: 1 };
      expectError(
        await call(op.method, fill(op.path), { body }),
        400,
        'validation_error',
        'surprise',
      );
    }
  });

  it('refuses malformed JSON, non-objects, bad encodings and oversized bodies', async () => {
    for (const op of operations.filter((o) => o.body)) {
      const path = fill(op.path);
      const valid = JSON.stringify(validBody(op));
      expectError(await call(op.method, path, { body: '{"display_name": ' }), 400, 'invalid_json');
      expectError(await call(op.method, path, { body: "{'a': 1}" }), 400, 'invalid_json');
      const latin1 = Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]);
      expectError(await call(op.method, path, { body: latin1 }), 400, 'invalid_json');
      for (const body of ['[]', 'null', '"text"', '42']) {
        expectError(await call(op.method, path, { body }), 400, 'validation_error', 'body');
      }
      for (const contentType of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
      ]) {
        expectError(
          await call(op.method, path, { body: valid, contentType }),
          415,
          'unsupported_media_type',
        );
      }
      expectError(
        await call(op.method, path, { body: Buffer.from(valid), contentType: null }),
        415,
        'unsupported_media_type',
      );
      const huge = JSON.stringify({ display_name: 'x'.repeat(200 * 1024) });
      const tooLarge = await call(op.method, path, { body: huge });
      expectError(tooLarge, 413, 'payload_too_large');
    }
  });

  it('names the field of every wrongly typed property', async () => {
    for (const op of operations.filter((o) => o.body)) {
      for (const field of Object.keys(op.body!.properties)) {
        const body = { ...validBody(op), [field]: true };
        expectError(await call(op.method, fill(op.path), { body }), 400, 'validation_error', field);
      }
    }
  });

  it('refuses NUL in every text field (Postgres text cannot hold it) with 400, not 500', async () => {
    const isText = (schema: any): boolean =>
      schema.type === 'string' || (schema.anyOf ?? []).some(isText);
    for (const op of operations.filter((o) => o.body)) {
      for (const [field, schema] of Object.entries(op.body!.properties)) {
        if (!isText(schema)) continue;
        const body = { ...validBody(op), [field]: 'a\u0000b' };
        expectError(await call(op.method, fill(op.path), { body }), 400, 'validation_error', field);
      }
    }
  });

  it('gives 404 for unknown paths and for IDs that cannot exist', async () => {
    for (const path of [
      '/nope',
      '/tenants/',
      '/tenants/a/b/c/d/e',
      '/dashboard/org',
      '/users/me/x',
    ]) {
      expectError(await call('GET', path), 404, 'not_found');
    }
    for (const op of operations.filter((o) => o.path.includes('{'))) {
      for (const bad of ['%00', 'x'.repeat(300), '%E0%A4%A', 'xs_nope_aaaaaaaa']) {
        const path = op.path.replace(/\{\w+\}/g, bad);
        const body = validBody(op);
        expectError(await call(op.method, path, { body }), 404, 'not_found');
      }
    }
  });

  it('wrote nothing while refusing', async () => {
    expect((await call('GET', '/tenants')).json.map((t: { id: string }) => t.id)).toEqual([
      ids.tenant,
    ]);
    const keys = (await call('GET', `/tenants/${ids.tenant}/keys`)).json;
    expect(keys.map((k: { id: string; revoked_at: null }) => [k.id, k.revoked_at])).toEqual([
      [ids.key, null],
    ]);
    expect((await call('GET', '/users')).json).toHaveLength(2);
    expect((await call('GET', '/organisation')).json.billing_plan).toBe('free');
    expect((await call('GET', `/tenants/${ids.tenant}`)).json.display_name).toBe('Payments');
  });
});
