import { randomBytes } from 'node:crypto';
import type { TestServer } from './app.ts';

export const PASSWORD = 'Correct-Horse-9';

export interface TestOrg {
  token: string;
  userId: string;
  email: string;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.com`;
}

/** Signs up a fresh organisation (free plan) and returns its owner's token. */
export async function signupOrg(server: TestServer, name = 'Test Org'): Promise<TestOrg> {
  const email = uniqueEmail('owner');
  const res = await server.gql(
    `mutation($o: String!, $e: String!, $p: String!) {
      signup(organisationName: $o, email: $e, password: $p) {
        __typename ... on AuthPayload { token user { id } } ... on Error { message }
      }
    }`,
    { o: name, e: email, p: PASSWORD },
  );
  const result = res.data?.signup;
  if (result?.__typename !== 'AuthPayload')
    throw new Error(`signup failed: ${JSON.stringify(res)}`);
  return { token: result.token, userId: result.user.id, email };
}

export async function createTenant(
  server: TestServer,
  token: string,
  input: { displayName?: string; environment?: string; region?: string } = {},
): Promise<{ id: string; displayName: string; environment: string }> {
  const res = await server.gql(
    `mutation($n: String!, $e: Environment!, $r: String) {
      createTenant(displayName: $n, environment: $e, region: $r) {
        __typename ... on Tenant { id displayName environment } ... on Error { message }
      }
    }`,
    { n: input.displayName ?? 'Payment Service', e: input.environment ?? 'prod', r: input.region },
    token,
  );
  const result = res.data?.createTenant;
  if (result?.__typename !== 'Tenant')
    throw new Error(`createTenant failed: ${JSON.stringify(res)}`);
  return result;
}

export async function createApiKey(
  server: TestServer,
  token: string,
  tenantId: string,
  input: { displayName?: string; scopes?: string[]; expiresAt?: string } = {},
): Promise<{ key: string; id: string; prefix: string }> {
  const res = await server.gql(
    `mutation($t: ID!, $n: String!, $s: [String!], $x: DateTime) {
      createApiKey(tenantId: $t, displayName: $n, scopes: $s, expiresAt: $x) {
        __typename ... on IssuedApiKey { key apiKey { id prefix } } ... on Error { message }
      }
    }`,
    { t: tenantId, n: input.displayName ?? 'collector', s: input.scopes, x: input.expiresAt },
    token,
  );
  const result = res.data?.createApiKey;
  if (result?.__typename !== 'IssuedApiKey')
    throw new Error(`createApiKey failed: ${JSON.stringify(res)}`);
  return { key: result.key, id: result.apiKey.id, prefix: result.apiKey.prefix };
}
