import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { engine } from './helpers/database.ts';
import { PROMTOOL, promtool, scrape } from './helpers/metrics.ts';
import { waitFor } from './helpers/process.ts';
import { PROMETHEUS, type RunningPrometheus, startPrometheus } from './helpers/prometheus.ts';

/** The Debian package's binaries, installed by .ci/run. */
const available = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
if (!available && process.env.CI) {
  throw new Error(`${PROMETHEUS} or ${PROMTOOL} is missing: CI installs the prometheus package`);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const ALERTS = join(root, 'deploy/prometheus/alerts.yml');
const DASHBOARD = join(root, 'deploy/grafana/xscaler-portal.json');

/** PromQL's words that look like metric names: functions, keywords, label names in by (...). */
const NOT_METRICS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'rate',
  'increase',
  'histogram_quantile',
  'topk',
  'by',
  'without',
  'on',
  'and',
  'or',
  'unless',
  'label_values',
]);

/** Metric names in PromQL, roughly: identifiers not inside {...} or (by ...) and not functions. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, '') // selectors
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/"[^"]*"/g, '');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((w) => !NOT_METRICS.has(w) && w.includes('_'));
}

function alertExpressions(): string[] {
  // The rules file is small and regular: `expr:` then either one line or a `|` block.
  const lines = readFileSync(ALERTS, 'utf8').split('\n');
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|') {
      exprs.push(m[2]!);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && /^\s{10,}\S/.test(lines[i + 1]!)) block.push(lines[++i]!);
    exprs.push(block.join(' '));
  }
  return exprs;
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

describe('deploy/: alert rules and dashboard', () => {
  it.skipIf(!available)('promtool check rules passes (and fails on a broken rule)', async () => {
    const check = promtool(['check', 'rules', ALERTS]);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), 'portal-rules-'));
    try {
      const broken = join(dir, 'broken.yml');
      await writeFile(
        broken,
        'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n',
      );
      expect(promtool(['check', 'rules', broken]).status).not.toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads metric names from the expressions', () => {
    expect(alertExpressions().length).toBeGreaterThanOrEqual(6);
    expect(dashboardExpressions().length).toBeGreaterThanOrEqual(15);
    expect(
      metricNames(
        'sum by (job, door) (rate(a_total{status=~"5.."}[5m])) / histogram_quantile(0.9, b_bucket)',
      ),
    ).toEqual(['a_total', 'b_bucket']);
  });
});

describe.skipIf(!available)('a real Prometheus scrapes the portal', () => {
  let prometheus: RunningPrometheus | undefined;
  let prometheusUrl = '';
  const output = () => prometheus?.output() ?? '';
  const server = useTestServer();

  const promQuery = async (query: string) => {
    const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`);
    const body = (await res.json()) as {
      status: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`prometheus: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  beforeAll(async () => {
    const target = new URL(server().url).host;
    prometheus = await startPrometheus(
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        // Prometheus itself loads the shipped rules: a rule it cannot evaluate shows in its API.
        'rule_files:',
        `  - ${ALERTS}`,
        'scrape_configs:',
        '  - job_name: xscaler-portal',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    prometheusUrl = prometheus.url;
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('finds the target up, stores portal metrics, and evaluates the shipped rules', async () => {
    for (let i = 0; i < 7; i++) await fetch(`${server().url}/tenants/t_${i}abcdef`);
    try {
      await waitFor(
        async () => {
          if (prometheus?.process.exitCode != null) throw new Error('prometheus exited');
          const res = await fetch(`${prometheusUrl}/api/v1/targets`).catch(() => undefined);
          if (res?.status !== 200) return false;
          const body = (await res.json()) as {
            data: { activeTargets: { health: string; lastError: string }[] };
          };
          return body.data.activeTargets[0]?.health === 'up';
        },
        60_000,
        250,
      );
    } catch (err) {
      throw new Error(`target never up: ${err}\n${output().slice(-3000)}`);
    }
    const series = await promQuery(
      'xscaler_portal_http_requests_total{job="xscaler-portal",route="/tenants/{id}"}',
    );
    // One series for seven different IDs: the template, never the path.
    expect(series).toHaveLength(1);
    expect(series[0]!.metric).toMatchObject({ door: 'rest', method: 'GET', status: '401' });
    expect(Number(series[0]!.value[1])).toBe(7);
    const [up] = await promQuery('up{job="xscaler-portal"}');
    expect(up?.value[1]).toBe('1');

    // The rules load and evaluate without error against real data.
    await waitFor(
      async () => {
        const res = await fetch(`${prometheusUrl}/api/v1/rules`);
        const body = (await res.json()) as {
          data: { groups: { rules: { health: string; lastEvaluation: string }[] }[] };
        };
        const rules = body.data.groups.flatMap((g) => g.rules);
        const bad = rules.filter((r) => r.health === 'err');
        if (bad.length) throw new Error(`rules in error: ${JSON.stringify(bad)}`);
        return rules.length > 0 && rules.every((r) => r.health === 'ok');
      },
      30_000,
      250,
    );
  }, 120_000);

  it('exposes every metric the dashboard and the alert rules use', async () => {
    const { samples } = await scrape(server().url);
    const exposed = new Set(samples.map((s) => s.name));
    const used = new Set([...alertExpressions(), ...dashboardExpressions()].flatMap(metricNames));
    expect(used.size).toBeGreaterThan(10);
    // PGlite has no pool: those series exist on PostgreSQL only.
    const missing = [...used].filter(
      (name) =>
        !exposed.has(name) &&
        !(engine !== 'postgres' && name.startsWith('xscaler_portal_db_pool_')),
    );
    expect(missing).toEqual([]);
  });
});
