import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createScratchDatabase } from './lib/database.ts';
import { formatTable } from './lib/load.ts';
import { startPrometheusStub } from './lib/prometheus.ts';
import { startTarget, type Target } from './lib/target.ts';

/**
 * 60 s of mixed load on two portal instances sharing one PostgreSQL, as deployed (production
 * mode, separate processes): GraphQL and REST reads, tenant and key changes, cached and
 * uncached verification, and live usage subscribers fed by a 5 s sync. Reports per operation
 * the error count, throughput and p99, and each instance's memory at the end against the start.
 */
const DURATION_S = Number(process.env.SOAK_DURATION_S || 60);
const CLIENTS = Number(process.env.SOAK_CLIENTS || 16);
const SUBSCRIBERS = Number(process.env.SOAK_SUBSCRIBERS || 200);
const PASSWORD = 'soak-password-1';

interface Stats {
  ok: number;
  failed: number;
  latencies: number[];
  firstFailure?: string;
}

const rssMiB = (pid: number) => {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
};

async function call(url: string, init: RequestInit & { token?: string } = {}): Promise<any> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

const gql = async (base: string, token: string, query: string, variables = {}) => {
  const body = await call(`${base}/graphql`, {
    method: 'POST',
    token,
    body: JSON.stringify({ query, variables }),
  });
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 200));
  const typed = Object.values<any>(body.data ?? {})[0];
  if (typed?.__typename?.endsWith('Error'))
    throw new Error(`${typed.__typename}: ${typed.message}`);
  return body.data;
};

const verify = async (base: string, key: string) => {
  const res = await fetch(`${base}/auth/verify?scope=metrics:write`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`verify ${res.status}`);
};

export async function benchSoak() {
  const database = await createScratchDatabase('portal_bench_soak');
  const prometheus = await startPrometheusStub();
  prometheus.setTenants([]);
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    PORT: '0',
    USAGE_PROMETHEUS_URL: prometheus.url,
    USAGE_SYNC_INTERVAL_S: '5',
  };
  const targets: Target[] = [];
  try {
    // A: the key cache on (cached verifies, reads); B: cache off, so every verify is a lookup.
    targets.push(await startTarget('src/main.ts', env));
    targets.push(await startTarget('src/main.ts', { ...env, KEY_CACHE_TTL_S: '0' }));
    const [a, b] = targets.map((t) => t.url) as [string, string];

    const email = `soak-${randomBytes(4).toString('hex')}@example.com`;
    const signup = await call(`${a}/auth/signup`, {
      method: 'POST',
      body: JSON.stringify({ organisation_name: 'Soak', email, password: PASSWORD }),
    });
    const token: string = signup.token;
    await call(`${a}/organisation/plan`, {
      method: 'PUT',
      token,
      body: JSON.stringify({ plan: 'scale' }),
    });
    const tenantIds: string[] = [];
    const keys: { id: string; key: string; tenantId: string }[] = [];
    for (let t = 0; t < 10; t++) {
      const tenant = await call(`${a}/tenants`, {
        method: 'POST',
        token,
        body: JSON.stringify({ display_name: `Soak ${t}`, environment: 'prod' }),
      });
      tenantIds.push(tenant.id);
      for (let k = 0; k < 3; k++) {
        const issued = await gql(
          a,
          token,
          `mutation($t: ID!) { createApiKey(tenantId: $t, displayName: "soak") {
            __typename ... on IssuedApiKey { key apiKey { id } } ... on Error { message } } }`,
          { t: tenantIds.at(-1) },
        );
        keys.push({
          ...issued.createApiKey.apiKey,
          key: issued.createApiKey.key,
          tenantId: tenantIds.at(-1)!,
        });
      }
    }
    prometheus.setTenants(tenantIds);

    // Live subscribers, half on each instance; each counts the pushes it gets.
    let pushes = 0;
    let subscriptionErrors = 0;
    let firstSubscriptionError: string | undefined;
    const clients = Array.from({ length: SUBSCRIBERS }, (_, i) => {
      const client = createClient({
        url: `${(i % 2 ? b : a).replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      });
      client.subscribe(
        { query: 'subscription { orgUsageUpdated { activeSeries pctUsed syncedAt } }' },
        {
          next: () => void pushes++,
          error: (err) => {
            subscriptionErrors++;
            firstSubscriptionError ??= JSON.stringify(err).slice(0, 200);
          },
          complete: () => {},
        },
      );
      return client;
    });

    const hot = keys[0]!;
    const operations: [name: string, weight: number, run: () => Promise<unknown>][] = [
      [
        'graphql read (nested tenants)',
        20,
        () =>
          gql(
            a,
            token,
            '{ tenants(first: 20) { totalCount edges { node { id displayName apiKeys { id prefix status } } } } }',
          ),
      ],
      ['rest read (GET /tenants)', 10, () => call(`${b}/tenants`, { token })],
      ['verify cached', 40, () => verify(a, hot.key)],
      ['verify uncached', 15, () => verify(b, keys[Math.floor(Math.random() * keys.length)]!.key)],
      [
        'tenant change (create, rename, delete)',
        3,
        async () => {
          const created = await gql(
            a,
            token,
            'mutation { createTenant(displayName: "Churn", environment: dev) { __typename ... on Tenant { id } ... on Error { message } } }',
          );
          const id = created.createTenant.id;
          await call(`${b}/tenants/${id}`, {
            method: 'PATCH',
            token,
            body: JSON.stringify({ display_name: 'Churned' }),
          });
          await gql(
            b,
            token,
            'mutation($id: ID!) { deleteTenant(id: $id) { __typename ... on Error { message } } }',
            { id },
          );
        },
      ],
      [
        'key change (create, roll, revoke)',
        3,
        async () => {
          const tenantId = tenantIds[Math.floor(Math.random() * tenantIds.length)]!;
          const created = await call(`${a}/tenants/${tenantId}/keys`, {
            method: 'POST',
            token,
            body: JSON.stringify({ display_name: 'churn' }),
          });
          const keyId = created.id;
          await call(`${b}/tenants/${tenantId}/keys/${keyId}/roll`, {
            method: 'POST',
            token,
            body: JSON.stringify({ grace_period_seconds: 0 }),
          });
          await call(`${a}/tenants/${tenantId}/keys/${keyId}`, { method: 'DELETE', token });
        },
      ],
    ];
    // Each operation `weight` times: a client steps through it with a fixed stride.
    const mix = operations.flatMap((op) => Array<typeof op>(op[1]).fill(op));
    const stats = new Map<string, Stats>(
      operations.map(([n]) => [n, { ok: 0, failed: 0, latencies: [] }]),
    );

    // Warm-up, then the baseline memory figure.
    for (const [, , run] of operations) await run().catch(() => {});
    const rssStart = targets.map((t) => rssMiB(t.child.pid!));

    const deadline = Date.now() + DURATION_S * 1000;
    const client = async (seed: number) => {
      let n = seed;
      while (Date.now() < deadline) {
        // A fixed stride through the weights: every client runs the same mix, in its own order.
        const [name, , run] = mix[(n++ * 7919) % mix.length]!;
        const s = stats.get(name)!;
        const started = performance.now();
        try {
          await run();
          s.ok++;
          s.latencies.push(performance.now() - started);
        } catch (err) {
          s.failed++;
          s.firstFailure ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i * 13)));
    const rssEnd = targets.map((t) => rssMiB(t.child.pid!));
    for (const c of clients) await c.dispose();

    const percentile = (values: number[], p: number) => {
      const sorted = [...values].sort((x, y) => x - y);
      return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
    };
    const rows = [...stats].map(([name, s]) => [
      name,
      String(s.ok),
      String(s.failed),
      (s.ok / DURATION_S).toFixed(1),
      percentile(s.latencies, 0.5).toFixed(1),
      percentile(s.latencies, 0.99).toFixed(1),
    ]);
    const allOk = [...stats.values()].reduce((sum, s) => sum + s.ok, 0);
    const allFailed = [...stats.values()].reduce((sum, s) => sum + s.failed, 0);
    console.log(
      `${DURATION_S} s, ${CLIENTS} clients, ${SUBSCRIBERS} subscribers over 2 instances (B without key cache)\n`,
    );
    console.log(formatTable(['operation', 'ok', 'failed', 'per s', 'p50 ms', 'p99 ms'], rows));
    console.log(
      `\nerror rate ${((allFailed / Math.max(1, allOk + allFailed)) * 100).toFixed(3)} %` +
        ` (${allFailed} of ${allOk + allFailed}); usage pushes received ${pushes}, subscription errors ${subscriptionErrors}`,
    );
    for (const [i, name] of ['A', 'B'].entries()) {
      console.log(
        `instance ${name} RSS: ${rssStart[i]!.toFixed(0)} MiB after warm-up, ${rssEnd[i]!.toFixed(0)} MiB at the end`,
      );
    }
    if (firstSubscriptionError) console.log(`first subscription error: ${firstSubscriptionError}`);
    for (const [name, s] of stats)
      if (s.firstFailure) console.log(`first failure of ${name}: ${s.firstFailure}`);
  } finally {
    for (const t of targets) await t.stop();
    await prometheus.stop();
    await database.drop();
  }
}
