import { deepStrictEqual } from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startBaseline } from './graphql-baseline.ts';
import { createScratchDatabase } from './lib/database.ts';
import {
  failureCount,
  formatTable,
  type LoadOptions,
  type LoadResult,
  runLoad,
} from './lib/load.ts';

export const TARGET_RATIO = 0.3;
const SETTLE_MS = 1000;

export interface GraphqlBenchOptions {
  durationS?: number;
  warmupS?: number;
  connections?: number;
  tenants?: number;
  keysPerTenant?: number;
}

export interface GraphqlBenchResult {
  portal: LoadResult;
  baseline: LoadResult;
  /** portal req/s divided by baseline req/s. */
  ratio: number;
  target: number;
  /** SQL statements the portal ran for one request (the issue wants the page in one, plus auth). */
  portalStatementsPerRequest: number;
}

export const NESTED_QUERY =
  '{ tenants(first: 100) { edges { node { id apiKeys { id prefix } } } } }';

/**
 * The nested tenants query through the whole portal (HTTP, Yoga, Pothos, Drizzle, postgres.js)
 * against a hand-written node:http + postgres.js handler giving the same JSON, in the same run.
 */
export async function benchGraphql(options: GraphqlBenchOptions = {}): Promise<GraphqlBenchResult> {
  const settings = {
    durationS: options.durationS ?? envNumber('BENCH_DURATION_S', 10),
    warmupS: options.warmupS ?? 2,
    connections: options.connections ?? envNumber('BENCH_CONNECTIONS', 50),
    tenants: options.tenants ?? 100,
    keysPerTenant: options.keysPerTenant ?? 2,
  };
  const database = await createScratchDatabase('portal_bench');
  try {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'silent',
    });
    const app = await createApp(config);
    const baseline = await startBaseline({
      databaseUrl: database.url,
      poolMax: config.dbPoolMax,
      jwt: {
        secret: new TextEncoder().encode(config.jwt.secret),
        issuer: config.jwt.issuer,
        audience: config.jwt.audience,
      },
    });
    try {
      const portalUrl = `${(await app.start()).url}/graphql`;
      const token = await seed(portalUrl, settings.tenants, settings.keysPerTenant);
      return await measure(app, portalUrl, baseline.url, token, settings);
    } finally {
      await baseline.stop();
      await app.stop();
    }
  } finally {
    await database.drop();
  }
}

async function measure(
  app: App,
  portalUrl: string,
  baselineUrl: string,
  token: string,
  settings: Required<GraphqlBenchOptions>,
): Promise<GraphqlBenchResult> {
  const body = JSON.stringify({ query: NESTED_QUERY });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

  const statements = countStatements(app);
  const portalBody = await postText(portalUrl, body, headers);
  const portalStatementsPerRequest = statements.stop();
  const baselineBody = await postText(baselineUrl, body, headers);
  assertSameAnswer(portalBody, baselineBody, settings.tenants, settings.keysPerTenant);

  // One after the other, never together: each gets both cores (shared with the load generator).
  const load = { body, headers, connections: settings.connections };
  // autocannon hangs up at the deadline, but the server still works through the requests it had
  // accepted: let them finish so they neither load the next run nor outlive the teardown.
  const loadAndSettle = async (options: LoadOptions) => {
    const result = await runLoad(options);
    await setTimeout(SETTLE_MS);
    return result;
  };
  const run = async (url: string, expectBody: string) => {
    await loadAndSettle({ ...load, url, durationS: settings.warmupS });
    return loadAndSettle({ ...load, url, durationS: settings.durationS, expectBody });
  };
  const portal = await run(portalUrl, portalBody);
  const baseline = await run(baselineUrl, baselineBody);
  const result = {
    portal,
    baseline,
    ratio: portal.requestsPerSecond / baseline.requestsPerSecond,
    target: TARGET_RATIO,
    portalStatementsPerRequest,
  };
  report(result, settings);
  if (failureCount(portal) + failureCount(baseline) > 0) {
    throw new Error('graphql bench: some requests failed or answered differently (see table)');
  }
  return result;
}

function report(result: GraphqlBenchResult, settings: Required<GraphqlBenchOptions>): void {
  const row = (name: string, r: LoadResult) => [
    name,
    r.requestsPerSecond.toFixed(0),
    r.p50Ms.toFixed(0),
    r.p99Ms.toFixed(0),
    String(failureCount(r)),
  ];
  console.log(
    `nested tenants query, ${settings.tenants} tenants x ${settings.keysPerTenant} keys, ` +
      `${settings.connections} connections, ${settings.durationS} s each after ${settings.warmupS} s warm-up`,
  );
  console.log(
    formatTable(
      ['', 'req/s', 'p50 ms', 'p99 ms', 'failed'],
      [row('portal (GraphQL)', result.portal), row('baseline (node:http)', result.baseline)],
    ),
  );
  const verdict = result.ratio >= result.target ? 'meets' : 'BELOW';
  console.log(
    `ratio portal/baseline: ${result.ratio.toFixed(2)} (${verdict} target ${result.target}); ` +
      `portal ran ${result.portalStatementsPerRequest} SQL statements per request`,
  );
}

/** Counts the statements the portal sends to the database until stop() is called. */
function countStatements(app: App) {
  let count = 0;
  const unsubscribe = app.database.onQuery(() => {
    count++;
  });
  return {
    stop() {
      unsubscribe();
      return count;
    },
  };
}

type Edges = { node: { id: string; apiKeys: { id: string; prefix: string }[] } }[];

/** Same tenants with the same keys, whatever the order; the bench is meaningless otherwise. */
function assertSameAnswer(portal: string, baseline: string, tenants: number, keys: number): void {
  const normalise = (text: string) =>
    (JSON.parse(text).data.tenants.edges as Edges)
      .map(({ node }) => ({
        id: node.id,
        apiKeys: node.apiKeys.map((k) => `${k.id}:${k.prefix}`).sort(),
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
  const expected = normalise(portal);
  deepStrictEqual(normalise(baseline), expected, 'baseline and portal answers differ');
  if (expected.length !== tenants || expected.some((t) => t.apiKeys.length !== keys)) {
    throw new Error(`expected ${tenants} tenants with ${keys} keys each, got ${portal}`);
  }
}

/** Sign up, move to the scale plan, create the tenants and keys, then log in for a fresh token. */
export async function seed(url: string, tenants: number, keysPerTenant: number): Promise<string> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'bench-password-0123456789';
  const signup = await mutation(
    url,
    undefined,
    'signup',
    `mutation($email: String!, $password: String!) {
      signup(organisationName: "Bench", email: $email, password: $password) {
        __typename ... on AuthPayload { token } ... on Error { message } } }`,
    { email, password },
  );
  const owner = signup.token as string;
  await mutation(
    url,
    owner,
    'changePlan',
    'mutation { changePlan(plan: scale) { __typename ... on Error { message } } }',
  );
  for (let i = 0; i < tenants; i++) {
    const tenant = await mutation(
      url,
      owner,
      'createTenant',
      `mutation($name: String!) { createTenant(displayName: $name, environment: prod) {
        __typename ... on Tenant { id } ... on Error { message } } }`,
      { name: `Bench tenant ${i}` },
    );
    for (let k = 0; k < keysPerTenant; k++) {
      await mutation(
        url,
        owner,
        'createApiKey',
        `mutation($tenantId: ID!, $name: String!) {
          createApiKey(tenantId: $tenantId, displayName: $name) {
            __typename ... on IssuedApiKey { key } ... on Error { message } } }`,
        { tenantId: tenant.id, name: `key ${k}` },
      );
    }
  }
  const login = await mutation(
    url,
    undefined,
    'login',
    `mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
      __typename ... on AuthPayload { token } ... on Error { message } } }`,
    { email, password },
  );
  return login.token as string;
}

/** Runs one mutation and returns its payload; GraphQL errors and typed error results throw. */
async function mutation(
  url: string,
  token: string | undefined,
  field: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const text = await postText(url, JSON.stringify({ query, variables }), headers);
  const payload = JSON.parse(text).data?.[field];
  if (!payload || 'message' in payload) throw new Error(`${field} failed: ${text}`);
  return payload;
}

async function postText(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${text}`);
  return text;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}
