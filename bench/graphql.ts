import { deepStrictEqual } from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout } from 'node:timers/promises';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createScratchDatabase } from './lib/database.ts';
import { failureCount, formatTable, type LoadResult, median, runLoad } from './lib/load.ts';
import { processTreeCpuSeconds } from './lib/process-cpu.ts';
import { profileFlags, startTarget } from './lib/target.ts';

/** Issue 12: portal/baseline at one process each, and at one process per core each. */
export const TARGET_RATIO = { oneProcess: 0.5, perCore: 0.6 };
const targetFor = (processes: number) =>
  processes === 1 ? TARGET_RATIO.oneProcess : TARGET_RATIO.perCore;
const SETTLE_MS = 1000;

export interface GraphqlBenchOptions {
  durationS?: number;
  warmupS?: number;
  connections?: number;
  tenants?: number;
  keysPerTenant?: number;
  /** Measurements of each side, taking turns (BENCH_GRAPHQL_ROUNDS, 3). */
  rounds?: number;
  /** Process counts to measure both servers at; default 1 and one per core. */
  processCounts?: number[];
}

/** A load run, with the server processes' CPU time per answered request. */
export interface MeasuredLoad extends LoadResult {
  /** Server CPU (user + system, every process of it) per 2xx answer, in ms; null off Linux. */
  cpuMsPerRequest: number | null;
}

export interface GraphqlRun {
  /** Server processes (WORKERS) of each side. */
  processes: number;
  portal: MeasuredLoad;
  baseline: MeasuredLoad;
  /** The median over the rounds of portal req/s divided by baseline req/s. */
  ratio: number;
  roundRatios: number[];
  target: number;
}

export interface GraphqlBenchResult {
  runs: GraphqlRun[];
  /** SQL statements the portal ran for one request (the issue wants the page in one, plus auth). */
  portalStatementsPerRequest: number;
}

export const NESTED_QUERY =
  '{ tenants(first: 100) { edges { node { id apiKeys { id prefix } } } } }';

/**
 * The nested tenants query through the whole portal (HTTP, Yoga, Pothos, Drizzle, postgres.js)
 * against a hand-written node:http + postgres.js handler giving the same JSON, in the same run.
 * Each side is its own server process (or WORKERS processes, as deployed with WORKERS=auto),
 * measured one after the other with the same load; neither shares an event loop with autocannon.
 */
export async function benchGraphql(options: GraphqlBenchOptions = {}): Promise<GraphqlBenchResult> {
  const cores = availableParallelism();
  const settings = {
    durationS: options.durationS ?? envNumber('BENCH_DURATION_S', 5),
    rounds: options.rounds ?? envNumber('BENCH_GRAPHQL_ROUNDS', 3),
    warmupS: options.warmupS ?? 2,
    connections: options.connections ?? envNumber('BENCH_CONNECTIONS', 50),
    tenants: options.tenants ?? 100,
    keysPerTenant: options.keysPerTenant ?? 2,
    processCounts:
      options.processCounts ??
      (process.env.BENCH_PROCESSES ? [envNumber('BENCH_PROCESSES', 1)] : [...new Set([1, cores])]),
  };
  const database = await createScratchDatabase('portal_bench');
  try {
    const env = {
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
    };
    const { token, portalBody, portalStatementsPerRequest } = await prepare(env, settings);
    const body = JSON.stringify({ query: NESTED_QUERY });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    /** A server started, checked and warmed up, then measured once per round. */
    const start = async (script: string, processes: number) => {
      const server = await startTarget(
        script,
        { ...env, WORKERS: String(processes) },
        profileFlags(script),
      );
      const url = `${server.url}/graphql`;
      const answer = await postText(url, body, headers);
      assertSameAnswer(answer, portalBody, settings.tenants, settings.keysPerTenant);
      const load = { url, body, headers, connections: settings.connections };
      // autocannon hangs up at the deadline, but the server still works through the
      // requests it had accepted: let them finish so they do not load the next run.
      await runLoad({ ...load, durationS: settings.warmupS });
      await setTimeout(SETTLE_MS);
      const measure = async (): Promise<MeasuredLoad> => {
        // Every answer under load must be byte-identical to this server's first, checked one.
        const cpuBefore = processTreeCpuSeconds(server.child.pid!);
        const result = await runLoad({
          ...load,
          durationS: settings.durationS,
          expectBody: answer,
        });
        // After the settle pause: the requests accepted before the deadline are then done too.
        await setTimeout(SETTLE_MS);
        const cpuAfter = processTreeCpuSeconds(server.child.pid!);
        const cpuMsPerRequest =
          cpuBefore === null || cpuAfter === null || result.completed === 0
            ? null
            : ((cpuAfter - cpuBefore) * 1000) / result.completed;
        return { ...result, cpuMsPerRequest };
      };
      return { measure, stop: () => server.stop() };
    };
    const runs: GraphqlRun[] = [];
    for (const processes of settings.processCounts) {
      // Both sides run throughout and the rounds take turns: this machine's speed drifts, and
      // a ratio of two measurements taken a minute apart measured the drift (see bench/verify.ts).
      const portalServer = await start('src/main.ts', processes);
      const baselineServer = await start('bench/targets/graphql-baseline.ts', processes);
      const rounds: { portal: MeasuredLoad; baseline: MeasuredLoad }[] = [];
      try {
        for (let round = 0; round < settings.rounds; round++) {
          rounds.push({
            portal: await portalServer.measure(),
            baseline: await baselineServer.measure(),
          });
        }
      } finally {
        await portalServer.stop();
        await baselineServer.stop();
      }
      const ratios = rounds.map((r) => r.portal.requestsPerSecond / r.baseline.requestsPerSecond);
      runs.push({
        processes,
        portal: medianLoad(rounds.map((r) => r.portal)),
        baseline: medianLoad(rounds.map((r) => r.baseline)),
        ratio: median(ratios),
        roundRatios: ratios,
        target: targetFor(processes),
      });
    }
    const result = { runs, portalStatementsPerRequest };
    report(result, settings);
    const failures = runs.reduce(
      (n, run) => n + failureCount(run.portal) + failureCount(run.baseline),
      0,
    );
    if (failures > 0) {
      throw new Error('graphql bench: some requests failed or answered differently (see table)');
    }
    return result;
  } finally {
    await database.drop();
  }
}

/** Seeds through an in-process portal, and records its answer and statement count once. */
async function prepare(
  env: Record<string, string>,
  settings: { tenants: number; keysPerTenant: number },
) {
  const app = await createApp(loadConfig({ ...env, LOG_LEVEL: 'silent' }));
  try {
    const url = `${(await app.start()).url}/graphql`;
    const token = await seed(url, settings.tenants, settings.keysPerTenant);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const statements = countStatements(app);
    const portalBody = await postText(url, JSON.stringify({ query: NESTED_QUERY }), headers);
    return { token, portalBody, portalStatementsPerRequest: statements.stop() };
  } finally {
    await app.stop();
  }
}

function report(
  result: GraphqlBenchResult,
  settings: Required<Omit<GraphqlBenchOptions, 'processCounts'>>,
): void {
  const row = (name: string, r: MeasuredLoad) => [
    name,
    r.requestsPerSecond.toFixed(0),
    r.p50Ms.toFixed(0),
    r.p99Ms.toFixed(0),
    r.cpuMsPerRequest === null ? '-' : r.cpuMsPerRequest.toFixed(2),
    String(failureCount(r)),
  ];
  console.log(
    `nested tenants query, ${settings.tenants} tenants x ${settings.keysPerTenant} keys, ` +
      `${settings.connections} connections, ${settings.rounds} rounds of ${settings.durationS} s per side taking turns ` +
      `after ${settings.warmupS} s warm-up; medians`,
  );
  console.log(
    formatTable(
      ['', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'failed'],
      result.runs.flatMap((run) => [
        row(`portal (GraphQL), ${plural(run.processes)}`, run.portal),
        row(`baseline (node:http), ${plural(run.processes)}`, run.baseline),
      ]),
    ),
  );
  for (const run of result.runs) {
    const verdict = run.ratio >= run.target ? 'meets' : 'BELOW';
    console.log(
      `ratio portal/baseline, ${plural(run.processes)} each: ${run.ratio.toFixed(2)} ` +
        `(${verdict} target ${run.target})${cpuRatio(run)}; per round ${run.roundRatios.map((r) => r.toFixed(2)).join(', ')}`,
    );
  }
  console.log(`portal ran ${result.portalStatementsPerRequest} SQL statements per request`);
}

/** Each figure's median over the rounds; failures summed (all must be 0). */
function medianLoad(rounds: MeasuredLoad[]): MeasuredLoad {
  const of = (pick: (m: MeasuredLoad) => number) => median(rounds.map(pick));
  const sum = (pick: (m: MeasuredLoad) => number) => rounds.reduce((n, m) => n + pick(m), 0);
  const cpu = rounds.map((m) => m.cpuMsPerRequest);
  return {
    requestsPerSecond: of((m) => m.requestsPerSecond),
    p50Ms: of((m) => m.p50Ms),
    p99Ms: of((m) => m.p99Ms),
    completed: sum((m) => m.completed),
    failures: {
      errors: sum((m) => m.failures.errors),
      timeouts: sum((m) => m.failures.timeouts),
      non2xx: sum((m) => m.failures.non2xx),
      mismatches: sum((m) => m.failures.mismatches),
    },
    cpuMsPerRequest: cpu.some((c) => c === null) ? null : median(cpu as number[]),
  };
}

/** Baseline CPU per request over the portal's: the share of the portal's work that is not GraphQL's. */
const cpuRatio = ({ portal, baseline }: GraphqlRun) =>
  portal.cpuMsPerRequest && baseline.cpuMsPerRequest
    ? `; CPU per request baseline/portal ${(baseline.cpuMsPerRequest / portal.cpuMsPerRequest).toFixed(2)}`
    : '';

const plural = (processes: number) => `${processes} process${processes === 1 ? '' : 'es'}`;

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
