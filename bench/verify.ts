import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { cryptoRandom } from '../src/lib/ids.ts';
import { generateApiKey } from '../src/modules/api-keys/key-format.ts';
import { createScratchDatabase } from './lib/database.ts';
import { formatTable, median } from './lib/load.ts';
import { profileFlags, startTarget } from './lib/target.ts';

const TENANTS = 20;
const KEYS_PER_TENANT = 50;

interface Seeded {
  keys: string[];
  keyIds: string[];
}

interface Measured {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** CPU per 2xx answer: the server process, and the PostgreSQL backends serving it. */
  serverCpuUs: number;
  postgresCpuUs: number;
}

/**
 * /auth/verify against two baselines, each server in its own process and measured one after
 * the other with the same load: a bare node:http handler (200 + one header) for the cached
 * path, and a node:http + postgres.js primary-key lookup for the uncached path (cache off,
 * requests cycling through 1,000 distinct keys).
 */
export async function benchVerify() {
  const durationS = Number(process.env.BENCH_DURATION_S || 5);
  const roundCount = Number(process.env.BENCH_VERIFY_ROUNDS || 3);
  const connections = Number(process.env.BENCH_CONNECTIONS || 50);
  const database = await createScratchDatabase('portal_bench_verify');
  try {
    const seeded = await seed(database.url);
    const portalEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      PORT: '0',
    };
    const bearer = (i: number) => ({
      authorization: `Bearer ${seeded.keys[i % seeded.keys.length]}`,
    });
    const targets: {
      name: string;
      script: string;
      env: Record<string, string>;
      headers: (i: number) => Record<string, string>;
    }[] = [
      {
        name: 'bare node:http (200 + header)',
        script: 'bench/targets/bare.ts',
        env: {},
        headers: bearer,
      },
      {
        name: 'node:http + postgres.js PK lookup',
        script: 'bench/targets/pk-lookup.ts',
        env: { DATABASE_URL: database.url },
        headers: (i: number) => ({ 'x-key-id': seeded.keyIds[i % seeded.keyIds.length]! }),
      },
      {
        name: 'portal /auth/verify, cached',
        script: 'src/main.ts',
        env: portalEnv,
        headers: bearer,
      },
      {
        name: 'portal /auth/verify, uncached',
        script: 'src/main.ts',
        env: { ...portalEnv, KEY_CACHE_TTL_S: '0' },
        headers: bearer,
      },
    ];
    // BENCH_VERIFY_COMPARE=<another checkout>: its portal, uncached, as a fifth server (A/B).
    const compare = process.env.BENCH_VERIFY_COMPARE;
    if (compare)
      targets.push({
        name: `uncached, ${compare}`,
        script: `${compare}/src/main.ts`,
        env: { ...portalEnv, KEY_CACHE_TTL_S: '0' },
        headers: bearer,
      });
    // Every server runs for the whole bench, and the rounds take turns: this machine's speed
    // drifts (steal time), and a ratio of two measurements minutes apart measured the drift.
    const servers = [];
    for (const target of targets)
      servers.push(await startTarget(target.script, target.env, profileFlags(target.script)));
    const rounds: Measured[][] = targets.map(() => []);
    try {
      const urls = servers.map((s) => `${s.url}/auth/verify?scope=metrics:write`);
      for (const [i, target] of targets.entries())
        await load(urls[i]!, target.headers, connections, 2);
      for (let round = 0; round < roundCount; round++) {
        for (const [i, target] of targets.entries()) {
          const server = servers[i]!;
          const before = await cpuMs(server.child.pid!, database.url);
          const measured = await load(urls[i]!, target.headers, connections, durationS);
          const after = await cpuMs(server.child.pid!, database.url);
          const answers = measured.requestsPerSecond * durationS;
          rounds[i]!.push({
            name: target.name,
            ...measured,
            serverCpuUs: ((after.server - before.server) * 1000) / answers,
            postgresCpuUs: ((after.postgres - before.postgres) * 1000) / answers,
          });
        }
      }
    } finally {
      // Each finishes its shutdown (last lastUsedAt flush) before the database is dropped.
      for (const server of servers) await server.stop();
    }
    const results = rounds.map(medianOf);
    console.log(
      formatTable(
        ['server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'CPU us/req', 'PG CPU us/req'],
        results.map((r) => [
          r.name,
          r.requestsPerSecond.toFixed(0),
          String(r.p50Ms),
          String(r.p99Ms),
          String(r.non2xx),
          String(r.errors),
          r.serverCpuUs.toFixed(0),
          r.postgresCpuUs.toFixed(0),
        ]),
      ),
    );
    // The median of each round's ratio: both sides of a ratio measured seconds apart.
    const ratio = (a: number, b: number) =>
      median(rounds[a]!.map((r, k) => r.requestsPerSecond / rounds[b]![k]!.requestsPerSecond));
    const cachedRatio = ratio(2, 0);
    const uncachedRatio = ratio(3, 1);
    const perRound = (i: number) =>
      rounds[i]!.map(
        (r) =>
          `${r.requestsPerSecond.toFixed(0)} (${(r.serverCpuUs + r.postgresCpuUs).toFixed(0)} us)`,
      ).join(', ');
    console.log(
      `${roundCount} rounds of ${durationS} s per server, taking turns; the table has medians`,
    );
    console.log(`  PK lookup per round, req/s (CPU us/req): ${perRound(1)}`);
    console.log(`  uncached verify per round:               ${perRound(3)}`);
    if (compare) {
      console.log(`  ${compare} per round: ${perRound(4)}`);
      console.log(`${compare} / PK lookup: ${ratio(4, 1).toFixed(2)}`);
    }
    console.log(`cached verify / bare handler:    ${cachedRatio.toFixed(2)} (target >= 0.8)`);
    console.log(`uncached verify / PK lookup:     ${uncachedRatio.toFixed(2)} (target >= 0.9)`);
    // CPU per answer varies far less than req/s when other work shares the cores.
    const cpuRatio = median(
      rounds[3]!.map((r, k) => {
        const base = rounds[1]![k]!;
        return (base.serverCpuUs + base.postgresCpuUs) / (r.serverCpuUs + r.postgresCpuUs);
      }),
    );
    console.log(
      `uncached, CPU per answer (server + PostgreSQL), PK lookup / verify: ${cpuRatio.toFixed(2)}`,
    );
    const flood = await benchUnknownKeyFlood(database.url, durationS, connections);
    return { results, cachedRatio, uncachedRatio, cpuRatio, flood };
  } finally {
    await database.drop();
  }
}

/**
 * A flood of well-formed random keys (valid checksum, no such key) from one source, against a
 * portal in this process so its database statements can be counted exactly (drizzle's query
 * log): with the limit off (VERIFY_UNKNOWN_KEY_RATE=0, as before the limit existed) and at the
 * defaults. Per source the limit allows its burst, then its rate; N sources, N times that.
 */
async function benchUnknownKeyFlood(databaseUrl: string, durationS: number, connections: number) {
  const keys = Array.from({ length: 100_000 }, () => generateApiKey(cryptoRandom));
  const rows: { name: string; rps: number; statementsPerS: number; s401: number; s429: number }[] =
    [];
  const settings: [string, Record<string, string>][] = [
    ['limit off (VERIFY_UNKNOWN_KEY_RATE=0)', { VERIFY_UNKNOWN_KEY_RATE: '0' }],
    ['defaults (10/s, burst 100, per source)', {}],
  ];
  for (const [name, env] of settings) {
    const app = await createApp(
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: databaseUrl,
        JWT_SECRET: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'silent',
        HOST: '127.0.0.1',
        PORT: '0',
        ...env,
      }),
    );
    const { url } = await app.start();
    let statements = 0;
    const off = app.database.onQuery(() => {
      statements++;
    });
    try {
      let i = 0;
      const result = await autocannon({
        url: `${url}/auth/verify?scope=metrics:write`,
        connections,
        duration: durationS,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({
              ...request,
              headers: { ...request.headers, authorization: `Bearer ${keys[i++ % keys.length]}` },
            }),
          },
        ],
      });
      const byStatus = (code: string) =>
        (result.statusCodeStats as Record<string, { count: number } | undefined>)[code]?.count ?? 0;
      rows.push({
        name,
        rps: result.requests.total / result.duration,
        statementsPerS: statements / result.duration,
        s401: byStatus('401'),
        s429: byStatus('429'),
      });
    } finally {
      off();
      await app.stop();
    }
  }
  console.log(
    formatTable(
      ['unknown-key flood, one source', 'req/s', 'db statements/s', '401', '429'],
      rows.map((r) => [
        r.name,
        r.rps.toFixed(0),
        r.statementsPerS.toFixed(1),
        String(r.s401),
        String(r.s429),
      ]),
    ),
  );
  return rows;
}

/** 1,000 keys over 20 tenants of one scale-plan organisation, created through the services. */
async function seed(databaseUrl: string): Promise<Seeded> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
  });
  const app = await createApp(config);
  try {
    const { services } = app;
    const { token } = await services.auth.signup({
      organisationName: 'Bench',
      email: `bench-${randomBytes(4).toString('hex')}@example.com`,
      password: 'bench-password-1',
    });
    const session = await services.auth.authenticate(token);
    await services.organisations.changePlan(session, { plan: 'scale' });
    const keys: string[] = [];
    const keyIds: string[] = [];
    for (let t = 0; t < TENANTS; t++) {
      const tenant = await services.tenants.create(session, {
        displayName: `Bench ${t}`,
        environment: 'prod',
      });
      for (let k = 0; k < KEYS_PER_TENANT; k++) {
        const issued = await services.apiKeys.create(session, tenant.id, {
          displayName: `key ${k}`,
        });
        keys.push(issued.key);
        keyIds.push(issued.apiKey.id);
      }
    }
    return { keys, keyIds };
  } finally {
    await app.stop();
  }
}

/** Each figure's median over the rounds (each figure on its own). */
function medianOf(rounds: Measured[]): Measured {
  const of = (pick: (m: Measured) => number) => median(rounds.map(pick));
  return {
    name: rounds[0]!.name,
    requestsPerSecond: of((m) => m.requestsPerSecond),
    p50Ms: of((m) => m.p50Ms),
    p99Ms: of((m) => m.p99Ms),
    non2xx: rounds.reduce((sum, m) => sum + m.non2xx, 0),
    errors: rounds.reduce((sum, m) => sum + m.errors, 0),
    serverCpuUs: of((m) => m.serverCpuUs),
    postgresCpuUs: of((m) => m.postgresCpuUs),
  };
}

/**
 * CPU milliseconds used so far by the server process and by the PostgreSQL backends of the
 * scratch database (its pool; the database is on this machine), from /proc.
 */
async function cpuMs(
  pid: number,
  databaseUrl: string,
): Promise<{ server: number; postgres: number }> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const backends = await sql<{ pid: number }[]>`
      select pid from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()`;
    let pg = 0;
    for (const backend of backends) pg += processCpuMs(backend.pid) ?? 0;
    return { server: processCpuMs(pid) ?? 0, postgres: pg };
  } finally {
    await sql.end();
  }
}

/** utime + stime of a process in ms (clock ticks of 10 ms), undefined once it has gone. */
function processCpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** GETs the url with per-request headers (cycling through keys) for durationS seconds. */
async function load(
  url: string,
  headersFor: (i: number) => Record<string, string>,
  connections: number,
  durationS: number,
): Promise<Omit<Measured, 'name' | 'serverCpuUs' | 'postgresCpuUs'>> {
  let i = 0;
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, ...headersFor(i++) },
        }),
      },
    ],
  });
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
