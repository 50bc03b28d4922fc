import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { postRaw } from './helpers/graphql-http.ts';
import { yogaOf } from './helpers/yoga.ts';

// A JSON POST from an API client is answered without Yoga's fetch layer (src/graphql/json-post.ts);
// an Accept header that is not exactly `*/*` or `application/json` sends the same request through
// Yoga itself. Both must give the same answer, byte for byte.
const ACCEPT_DIRECT = { accept: '*/*' };
const ACCEPT_VIA_YOGA = { accept: 'application/json;q=0.9' };

describe('JSON POST to /graphql, answered directly or by Yoga', () => {
  const server = useTestServer();
  let org: TestOrg;
  let tenantId: string;

  beforeAll(async () => {
    org = await signupOrg(server());
    tenantId = (await createTenant(server(), org.token, { displayName: 'Json Post' })).id;
    await createApiKey(server(), org.token, tenantId);
  });

  const bodies: [string, () => { body: string; token?: string }][] = [
    [
      'a nested read',
      () => ({
        body: JSON.stringify({
          query:
            '{ tenants(first: 5) { edges { node { id displayName apiKeys { id prefix } } } } }',
        }),
        token: org.token,
      }),
    ],
    [
      'a typed error',
      () => ({
        body: JSON.stringify({
          query:
            '{ tenant(id: "xs_nope_aaaaaaaa") { __typename ... on NotFoundError { message } } }',
        }),
        token: org.token,
      }),
    ],
    [
      'no token',
      () => ({
        body: JSON.stringify({ query: '{ tenants(first: 1) { edges { node { id } } } }' }),
      }),
    ],
    [
      'a token that is not a JWT',
      () => ({ body: JSON.stringify({ query: '{ me { id } }' }), token: 'not-a-jwt' }),
    ],
    [
      'a wrong enum value in variables',
      () => ({
        body: JSON.stringify({
          query: 'query($e: Environment) { tenants(environment: $e) { edges { node { id } } } }',
          variables: { e: 'nope' },
        }),
        token: org.token,
      }),
    ],
    ['a syntax error', () => ({ body: JSON.stringify({ query: '{ tenants(' }) })],
    ['an unknown field', () => ({ body: JSON.stringify({ query: '{ nope }' }) })],
    [
      'a query over the depth limit',
      () => ({
        body: JSON.stringify({
          query: `{ ${'tenants { edges { node { '.repeat(5)}id${' } } }'.repeat(5)} }`,
        }),
        token: org.token,
      }),
    ],
    ['a body that is not JSON', () => ({ body: '{"query": ' })],
    ['a batch', () => ({ body: JSON.stringify([{ query: '{ me { id } }' }]) })],
    ['no query', () => ({ body: JSON.stringify({ variables: {} }) })],
    ['an unknown parameter', () => ({ body: JSON.stringify({ query: '{ me { id } }', x: 1 }) })],
    [
      'an operation name that is not in the document',
      () => ({ body: JSON.stringify({ query: 'query A { me { id } }', operationName: 'B' }) }),
    ],
  ];

  it.each(bodies)('%s', async (_name, make) => {
    const { body, token } = make();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    const direct = await postRaw(server(), body, { ...headers, ...ACCEPT_DIRECT });
    const viaYoga = await postRaw(server(), body, { ...headers, ...ACCEPT_VIA_YOGA });
    expect(direct).toEqual(viaYoga);
    expect(direct.status).toBeLessThan(500);
    expect(direct.contentType).toMatch(/^application\/json/);
  });

  it('leaves a subscription to Yoga, which streams it as server-sent events', async () => {
    const abort = new AbortController();
    const res = await fetch(`${server().url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...ACCEPT_DIRECT,
        authorization: `Bearer ${org.token}`,
      },
      body: JSON.stringify({ query: 'subscription { orgUsageUpdated { activeSeries } }' }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    abort.abort();
  });

  it('runs a mutation once', async () => {
    const count = async () => {
      const res = await server().gql('{ tenants { edges { node { id } } } }', {}, org.token);
      return res.data.tenants.edges.length as number;
    };
    const before = await count();
    const created = await postRaw(
      server(),
      JSON.stringify({
        query: 'mutation { createTenant(displayName: "Once", environment: dev) { __typename } }',
      }),
      {
        'content-type': 'application/json',
        ...ACCEPT_DIRECT,
        authorization: `Bearer ${org.token}`,
      },
    );
    expect(created.json).toEqual({ data: { createTenant: { __typename: 'Tenant' } } });
    expect(await count()).toBe(before + 1);
  });

  it('fails when a Yoga plugin with request-level hooks comes or goes, so the direct answer gets reviewed', () => {
    const { app } = server();
    const yoga = yogaOf(app) as unknown as { plugins: Record<string, unknown>[] };
    // json-post.ts answers without these hooks: a plugin using one (persisted operations, CSRF
    // prevention, a response cache, tracing...) would not see API clients' POSTs. Send such
    // requests to Yoga, or make sure skipping it is right, then update the counts.
    const hooks = [
      'onRequest',
      'onRequestParse',
      'onParams',
      'onExecutionResult',
      'onResultProcess',
      'onResponse',
    ];
    const counts = Object.fromEntries(
      hooks.map((hook) => [hook, yoga.plugins.filter((plugin) => plugin[hook]).length]),
    );
    expect(counts).toEqual({
      // Yoga's CORS is off (cors: false): the /graphql handler applies CORS_ORIGINS on both doors.
      onRequest: 3,
      // Yoga's parsers and checks; explainUnsupportedMediaType; useParamJsonErrors (GET and
      // urlencoded forms only: a JSON body never reaches it).
      onRequestParse: 10,
      onParams: 1,
      onExecutionResult: 0,
      // Yoga's result processors; useSseResponses (subscriptions over text/event-stream only:
      // the direct door answers queries and mutations, never a subscription).
      onResultProcess: 2,
      // useOfflineGraphiQL (it only replaces GraphiQL's GET text/html page).
      onResponse: 1,
    });
  });
});
