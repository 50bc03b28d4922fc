import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthStart } from '../src/modules/usage/month.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg } from './helpers/factories.ts';
import { waitFor } from './helpers/process.ts';
import { PROMETHEUS, type RunningPrometheus, startPrometheus } from './helpers/prometheus.ts';

/** The Debian package's binary, installed by .ci/run. */
const available = existsSync(PROMETHEUS);
if (!available && process.env.CI) {
  throw new Error(`${PROMETHEUS} is missing: CI must install the prometheus package (.ci/run)`);
}

const GB = 1e9;
/** Counter values served on successive scrapes: three rises, one reset, three rises, then flat. */
const LOGS_COUNTER = [10, 20, 30, 5, 15, 25].map((v) => v * GB);
const ACTIVE_SERIES = { 'ingester-1': 1000, 'ingester-2': 234 };

/**
 * A fixture exporter in the text exposition format. Until `tenantId` is set it exposes nothing
 * of interest (tenant IDs are made by the portal); from then on each scrape moves the logs
 * counter one step along LOGS_COUNTER and then holds the last value, so whatever Prometheus
 * stored before the sync is also what it holds after.
 */
class Exporter {
  tenantId: string | undefined;
  scrapes = 0;
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      const lines = ['# HELP fixture_up The fixture exporter is up.', 'fixture_up 1'];
      const id = this.tenantId;
      if (id) {
        const value = LOGS_COUNTER[Math.min(this.scrapes, LOGS_COUNTER.length - 1)]!;
        this.scrapes++;
        lines.push(
          '# HELP cortex_ingester_active_series Active series per user.',
          '# TYPE cortex_ingester_active_series gauge',
          ...Object.entries(ACTIVE_SERIES).map(
            ([ingester, n]) =>
              `cortex_ingester_active_series{user="${id}",ingester="${ingester}"} ${n}`,
          ),
          // Not one of ours: ignored by the sync.
          'cortex_ingester_active_series{user="xs_stranger_aaaaaaaa",ingester="ingester-1"} 777',
          '# HELP loki_distributor_bytes_received_total Bytes received per tenant.',
          '# TYPE loki_distributor_bytes_received_total counter',
          `loki_distributor_bytes_received_total{tenant="${id}"} ${value}`,
        );
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`${lines.join('\n')}\n`);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

describe.skipIf(!available)('usage sync against a real Prometheus', () => {
  const exporter = new Exporter();
  let prometheus: RunningPrometheus | undefined;
  let prometheusUrl = '';
  const prometheusOutput = () => prometheus?.output() ?? '';

  /** An instant query straight to Prometheus, as the test's own check. */
  const promQuery = async (query: string) => {
    const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`);
    const body = (await res.json()) as {
      status: string;
      data: {
        result: {
          metric: Record<string, string>;
          value?: [number, string];
          values?: [number, string][];
        }[];
      };
    };
    if (body.status !== 'success') throw new Error(`prometheus: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  beforeAll(async () => {
    await exporter.start();
    prometheus = await startPrometheus(
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: fixture',
        '    static_configs:',
        `      - targets: ['${exporter.url}']`,
        '',
      ].join('\n'),
    );
    prometheusUrl = prometheus.url;
    try {
      await waitFor(
        async () => {
          if (prometheus?.process.exitCode != null) throw new Error('prometheus exited');
          const res = await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined);
          return res?.status === 200;
        },
        45_000,
        200,
      );
    } catch (err) {
      throw new Error(
        `prometheus did not become ready: ${err}\n${prometheusOutput().slice(-3000)}`,
      );
    }
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter.stop();
  });

  // Declared after the hooks above, so its beforeAll runs once Prometheus answers.
  const server = useTestServer({ env: () => ({ USAGE_PROMETHEUS_URL: prometheusUrl }) });

  it('reads active series and month-to-date bytes across a counter reset', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    exporter.tenantId = tenant.id;
    const startedAt = Date.now();

    const selector = `loki_distributor_bytes_received_total{tenant="${tenant.id}"}`;
    // Every step of the counter stored, the reset among them, and several flat samples after.
    const minSamples = LOGS_COUNTER.length + 6;
    try {
      await waitFor(
        async () => {
          if (exporter.scrapes < minSamples) return false;
          const [count] = await promQuery(`count_over_time(${selector}[10m])`);
          const [resets] = await promQuery(`resets(${selector}[10m])`);
          const series = await promQuery(`cortex_ingester_active_series{user="${tenant.id}"}`);
          return (
            Number(count?.value?.[1]) >= minSamples &&
            Number(resets?.value?.[1]) === 1 &&
            series.length === 2
          );
        },
        60_000,
        250,
      );
    } catch (err) {
      throw new Error(`${err}; ${exporter.scrapes} scrapes\n${prometheusOutput().slice(-3000)}`);
    }
    const settledMs = Date.now() - startedAt;

    // The sync of this test runs by hand, on the real clock: no background tick may interfere
    // or have done this interval already.
    await server().app.usageSync.stop();
    await server().database.db.execute(sql`update usage_sync_state set last_tick = null`);
    expect(await server().app.usageSync.runTick()).toBe('synced');

    const res = await server().gql(
      `query($id: ID!) {
        tenant(id: $id) { ... on Tenant { usage { activeSeries logsBytesThisMonth logsGbThisMonth syncedAt } } }
        usageSyncStatus { sourceConfigured lastError lastSuccessAt tenantsSynced }
      }`,
      { id: tenant.id },
      org.token,
    );
    expect(res.errors).toBeUndefined();
    const usage = res.data.tenant.usage;
    expect(res.data.usageSyncStatus).toMatchObject({ sourceConfigured: true, lastError: null });
    expect(res.data.usageSyncStatus.lastSuccessAt).toBe(usage.syncedAt);
    expect(usage.activeSeries).toBe(1234);

    // What Prometheus stored (flat since before the sync, so the same samples it used then).
    const [stored] = await promQuery(`${selector}[1h]`);
    const samples = (stored?.values ?? []).map(([t, v]) => ({ t, v: Number(v) }));
    expect(samples.length).toBeGreaterThanOrEqual(minSamples);
    let rises = 0;
    for (let i = 1; i < samples.length; i++) {
      const { v } = samples[i]!;
      const prev = samples[i - 1]!.v;
      rises += v >= prev ? v - prev : v; // after a reset the counter counted up from 0
    }
    const naive = samples.at(-1)!.v - samples[0]!.v;
    expect(naive).toBe(15 * GB);
    // With every step scraped: 20 + 5 + 20 GB.
    expect(rises).toBeGreaterThanOrEqual(40 * GB);

    const bytes = usage.logsBytesThisMonth as number;
    const syncedAt = new Date(usage.syncedAt);
    const seriesStart = new Date(samples[0]!.t * 1000);
    if (seriesStart < monthStart(syncedAt)) {
      // The month turned while the test ran: only this month's part counts.
      expect(bytes).toBeLessThan(rises);
    } else {
      expect(bytes).toBeGreaterThan(naive);
      // increase() extrapolates from the samples to the edges of the range: never below the
      // sum of rises, and by at most about 2.2 sample intervals over the sampled span.
      expect(bytes).toBeGreaterThanOrEqual(rises * 0.999);
      expect(bytes).toBeLessThanOrEqual(rises * (1 + 2.5 / (minSamples - 1)));
      expect(usage.logsGbThisMonth).toBeCloseTo(bytes / GB, 2);
    }
    console.info(
      `real Prometheus: ${samples.length} samples after ${settledMs} ms; rises ${rises / GB} GB, ` +
        `naive last-first ${naive / GB} GB, synced ${bytes / GB} GB, active series ${usage.activeSeries}`,
    );
  });
});
