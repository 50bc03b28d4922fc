import { count } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, tenants } from '../src/db/schema.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { postGql, postRaw, type RawResponse } from './helpers/graphql-http.ts';

const server = useTestServer();

let org: TestOrg;
let tenantId: string;
beforeAll(async () => {
  org = await signupOrg(server());
  tenantId = (await createTenant(server(), org.token, { displayName: 'Target' })).id;
});

const auth = () => `Bearer ${org.token}`;
const gql = (query: string, variables: Record<string, unknown> = {}) =>
  postGql(server(), query, variables, auth());
const headers = (contentType?: string) => ({
  authorization: auth(),
  ...(contentType ? { 'content-type': contentType } : {}),
});

const CREATE_VARS = `mutation($n: String!, $e: Environment!) { createTenant(displayName: $n, environment: $e) {
  __typename ... on ValidationError { field message } } }`;
const KEY_VARS = `mutation($t: ID!, $x: DateTime) { createApiKey(tenantId: $t, displayName: "k", expiresAt: $x) {
  __typename } }`;

/** Rows the bad requests could have written. */
async function counts() {
  const db = server().database.db;
  const [t] = await db.select({ n: count() }).from(tenants);
  const [k] = await db.select({ n: count() }).from(apiKeys);
  return { tenants: t!.n, apiKeys: k!.n };
}

/** The message a client sees: the first GraphQL error, or a typed error result. */
function messageOf(res: RawResponse): string {
  const error = res.json?.errors?.[0]?.message;
  if (error) return error;
  const result = Object.values(res.json?.data ?? {})[0] as { message?: string } | undefined;
  return result?.message ?? '';
}

const deep = (levels: number) => {
  let selection = 'id';
  for (let i = 0; i < levels; i++) selection = `node { ${selection} }`;
  return `{ tenants { edges { ${selection} } } }`;
};

const cases: {
  name: string;
  send: () => Promise<RawResponse>;
  message: RegExp;
  status?: number;
}[] = [
  {
    name: 'missing required argument',
    send: () => gql(`mutation { createTenant(environment: prod) { __typename } }`),
    message: /argument "displayName" of type "String!" is required/,
  },
  {
    name: 'missing required variable',
    send: () => gql(CREATE_VARS, { e: 'prod' }),
    message: /Variable "\$n" of required type "String!" was not provided/,
  },
  {
    name: 'null for a required variable',
    send: () => gql(CREATE_VARS, { n: null, e: 'prod' }),
    message: /"\$n" of non-null type "String!" must not be null/,
  },
  {
    name: 'wrong enum value inline',
    send: () =>
      gql(`mutation { createTenant(displayName: "x", environment: production) { __typename } }`),
    message: /"production" does not exist in "Environment" enum/,
  },
  {
    name: 'wrong enum value via variables',
    send: () => gql(CREATE_VARS, { n: 'Enum Test', e: 'production' }),
    message: /"production" does not exist in "Environment" enum/,
  },
  {
    name: 'number for a string',
    send: () => gql(CREATE_VARS, { n: 123, e: 'prod' }),
    message: /String cannot represent a non string value: 123/,
  },
  {
    name: 'object for a string',
    send: () => gql(CREATE_VARS, { n: { evil: true }, e: 'prod' }),
    message: /String cannot represent a non string value/,
  },
  {
    name: '1 MB display name (over the 100 KiB body limit)',
    send: () => gql(CREATE_VARS, { n: 'x'.repeat(1024 * 1024), e: 'prod' }),
    message: /too large/i,
    status: 413,
  },
  {
    name: '50 KB display name',
    send: () => gql(CREATE_VARS, { n: 'x'.repeat(50 * 1024), e: 'prod' }),
    message: /displayName: must be at most 100 characters/,
    status: 200,
  },
  {
    name: 'malformed JSON body',
    send: () =>
      postRaw(
        server(),
        '{"query": "{ tenants { edges { node { id } } } }"',
        headers('application/json'),
      ),
    message: /invalid JSON/,
    status: 400,
  },
  {
    name: 'empty body',
    send: () => postRaw(server(), '', headers('application/json')),
    message: /invalid JSON/,
    status: 400,
  },
  {
    name: 'text/plain content type',
    send: () =>
      postRaw(server(), JSON.stringify({ query: '{ me { id } }' }), headers('text/plain')),
    message: /Content-Type "text\/plain".*application\/json/,
    status: 415,
  },
  {
    name: 'no content type',
    send: () => postRaw(server(), JSON.stringify({ query: '{ me { id } }' }), headers()),
    message: /Content-Type.*application\/json/,
    status: 415,
  },
  {
    name: 'query that is not a string',
    send: () => postRaw(server(), JSON.stringify({ query: 42 }), headers('application/json')),
    message: /"query" param to be a string/,
    status: 400,
  },
  {
    name: 'variables that are not an object',
    send: () =>
      postRaw(
        server(),
        JSON.stringify({ query: '{ me { id } }', variables: 'x' }),
        headers('application/json'),
      ),
    message: /"variables" param to be empty or an object/,
    status: 400,
  },
  {
    name: 'syntax error',
    send: () => gql(`mutation { createTenant(displayName: "x" environment: prod) { `),
    message: /Syntax Error/,
  },
  {
    name: 'unknown field',
    send: () => gql(`{ tenants { edges { node { id secret } } } }`),
    message: /Cannot query field "secret" on type "Tenant"/,
  },
  {
    name: 'unknown argument',
    send: () =>
      gql(
        `mutation { createTenant(displayName: "x", environment: prod, owner: "me") { __typename } }`,
      ),
    message: /Unknown argument "owner"/,
  },
  {
    name: 'invalid DateTime via variables',
    send: () => gql(KEY_VARS, { t: tenantId, x: 'tomorrow' }),
    message: /DateTime must be an RFC 3339 date-time/,
  },
  {
    name: 'impossible DateTime inline',
    send: () =>
      gql(
        `mutation($t: ID!) { createApiKey(tenantId: $t, displayName: "k", expiresAt: "2026-13-45T00:00:00Z") { __typename } }`,
        { t: tenantId },
      ),
    message: /DateTime must be an RFC 3339 date-time/,
  },
  {
    name: 'DateTime without a zone',
    send: () => gql(KEY_VARS, { t: tenantId, x: '2030-01-01T00:00:00' }),
    message: /DateTime must be an RFC 3339 date-time/,
  },
  {
    name: 'number for an Int beyond 32 bits',
    send: () =>
      gql(`mutation($g: Int!) { rollApiKey(id: "key_x", gracePeriodSeconds: $g) { __typename } }`, {
        g: 2 ** 40,
      }),
    message: /Int cannot represent non 32-bit signed integer/,
  },
  {
    name: 'overlong query depth',
    send: () => gql(deep(15)),
    message: /depth limit of 12 exceeded/,
  },
  {
    name: 'too many aliases',
    send: () => gql(`{ ${Array.from({ length: 30 }, (_, i) => `a${i}: me { id }`).join(' ')} }`),
    message: /Aliases limit of 20 exceeded/,
  },
  {
    name: 'unknown region',
    send: () =>
      gql(
        `mutation { createTenant(displayName: "Far Away", environment: prod, region: "mars-1") { ... on ValidationError { field message } } }`,
      ),
    message: /region: unknown region "mars-1"/,
    status: 200,
  },
];

describe('bad input', () => {
  it.each(cases)(
    '$name: a clear error, no 500, nothing written',
    async ({ send, message, status }) => {
      const before = await counts();
      const res = await send();
      expect(res.status).toBeLessThan(500);
      if (status) expect(res.status).toBe(status);
      expect(res.contentType).toMatch(/json/);
      expect(res.text).not.toContain('Unexpected error');
      expect(messageOf(res)).toMatch(message);
      expect(await counts()).toEqual(before);
    },
  );

  it('still serves a well-formed request afterwards', async () => {
    const res = await server().gql(`{ tenants { edges { node { id } } } }`, {}, org.token);
    expect(res.data.tenants.edges.map((e: any) => e.node.id)).toEqual([tenantId]);
  });

  it('a normal nested query is still allowed', async () => {
    const res = await gql(
      `{ tenants(first: 5) { edges { node { id apiKeys { id scopes } } } } organisation { users { id } } }`,
    );
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
  });
});
