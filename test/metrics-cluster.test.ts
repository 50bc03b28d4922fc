import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, engine, type TestDatabase } from './helpers/database.ts';
import { parseSamples, promtool, promtoolAvailable, samplesOf } from './helpers/metrics.ts';
import { type PortalProcess, spawnPortal, waitFor } from './helpers/process.ts';
import { restCall } from './helpers/rest.ts';

const HEALTH = { name: 'xscaler_portal_http_requests_total', labels: { route: '/healthz' } };

/** N GETs of /healthz, each on a connection of its own: the cluster hands them out in turn. */
async function healthChecks(baseUrl: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const reply = await restCall(baseUrl, 'GET', '/healthz', { headers: { connection: 'close' } });
    expect(reply.status).toBe(200);
  }
}

/** Each worker's count of /healthz answers, by its `worker` label. */
function healthByWorker(text: string): Record<string, number> {
  const byWorker: Record<string, number> = {};
  for (const s of samplesOf(parseSamples(text), HEALTH.name, HEALTH.labels)) {
    const worker = s.labels.worker ?? 'none';
    byWorker[worker] = (byWorker[worker] ?? 0) + s.value;
  }
  return byWorker;
}

async function metricsText(url: string): Promise<string> {
  const reply = await restCall(url, 'GET', '/metrics', { headers: { connection: 'close' } });
  expect(reply.status, reply.text).toBe(200);
  return reply.text;
}

// Several processes on one database: PGlite is one process per data directory.
describe.skipIf(engine !== 'postgres')('/metrics with WORKERS=2', () => {
  let testDatabase: TestDatabase;
  let portal: PortalProcess | undefined;

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
  });

  afterAll(async () => {
    await portal?.kill('SIGKILL');
    await testDatabase?.drop();
  });

  it('the primary serves every worker figures on METRICS_PORT', async () => {
    portal = await spawnPortal({
      DATABASE_URL: testDatabase.url!,
      WORKERS: '2',
      METRICS_PORT: '0',
    });
    let metricsUrl = '';
    await waitFor(
      async () => {
        const match = /metrics of all workers on (http:\/\/\S+)\/metrics/.exec(portal!.output());
        metricsUrl = match?.[1] ?? '';
        return metricsUrl !== '';
      },
      30_000,
      100,
    );
    // Not on the main port: it need not be public.
    expect(
      (await restCall(portal.url, 'GET', '/metrics', { headers: { connection: 'close' } })).status,
    ).toBe(404);
    const before = healthByWorker(await metricsText(metricsUrl));
    await healthChecks(portal.url, 10);
    const text = await metricsText(metricsUrl);
    const after = healthByWorker(text);
    const workers = Object.keys(after).filter((w) => w !== 'primary');
    expect(workers, text.slice(0, 2000)).toHaveLength(2);
    const served = workers.map((w) => after[w]! - (before[w] ?? 0));
    // Both workers served some, and every request is counted once.
    expect(
      served.every((n) => n > 0),
      JSON.stringify(served),
    ).toBe(true);
    expect(served.reduce((a, b) => a + b, 0)).toBe(10);
    // The primary's own process metrics, and how many workers it has.
    const samples = parseSamples(text);
    expect(samplesOf(samples, 'xscaler_portal_cluster_workers')[0]?.value).toBe(2);
    expect(samplesOf(samples, 'process_start_time_seconds')).toHaveLength(3);
    if (promtoolAvailable) {
      const check = promtool(['check', 'metrics'], text);
      expect(check.output).toBe('');
    }
    await portal.kill('SIGKILL');
    portal = undefined;
  }, 180_000);

  it('without METRICS_PORT, /metrics on the main port answers for all workers', async () => {
    portal = await spawnPortal({ DATABASE_URL: testDatabase.url!, WORKERS: '2' });
    await healthChecks(portal.url, 6);
    // Each scrape lands on one worker or the other; every one reports both.
    for (let i = 0; i < 4; i++) {
      const byWorker = healthByWorker(await metricsText(portal.url));
      const workers = Object.keys(byWorker).filter((w) => w !== 'primary');
      expect(workers).toHaveLength(2);
      expect(workers.reduce((sum, w) => sum + byWorker[w]!, 0)).toBe(6);
    }
  }, 180_000);
});
