import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import postgres from 'postgres';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { base32 } from '../src/lib/ids.ts';
import { createScratchDatabase } from './lib/database.ts';
import { formatTable, median } from './lib/load.ts';
import { startPrometheusStub } from './lib/prometheus.ts';

const TENANTS_PER_ORG = 3;
const RUNS = 3;

/**
 * What the 80% / 100% alert evaluation adds to each usage sync: for N organisations of 3
 * tenants, the median evaluation after a sync (nothing crossed) against the median sync tick
 * itself (the baseline), same scratch PostgreSQL database, same run.
 */
export async function benchUsageAlerts(sizes = [1_000, 5_000]) {
  const stub = await startPrometheusStub();
  const rows: string[][] = [];
  try {
    for (const orgs of sizes) {
      const database = await createScratchDatabase('usage_alerts_bench');
      const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
      try {
        const config = loadConfig({
          NODE_ENV: 'production',
          DATABASE_URL: database.url,
          JWT_SECRET: randomBytes(32).toString('hex'),
          LOG_LEVEL: 'silent',
          USAGE_PROMETHEUS_URL: stub.url,
        });
        const app = await createApp(config, { clock });
        try {
          const ids = await seed(database.url, orgs);
          stub.setTenants(ids);
          const alerts = app.services.usageAlerts;
          const tick = async () => {
            clock.advance(60_000);
            const started = performance.now();
            await app.usageSync.runTick();
            const tickMs = performance.now() - started;
            await alerts.settled(); // the sync's own evaluation, not timed here
            const evalStarted = performance.now();
            await alerts.evaluate(clock.now());
            return { tickMs, evalMs: performance.now() - evalStarted };
          };
          await tick(); // warm-up; crossings (if any) fire here
          const runs = [];
          for (let i = 0; i < RUNS; i++) runs.push(await tick());
          const tickMs = median(runs.map((r) => r.tickMs));
          const evalMs = median(runs.map((r) => r.evalMs));
          rows.push([
            String(orgs),
            String(orgs * TENANTS_PER_ORG),
            tickMs.toFixed(0),
            evalMs.toFixed(0),
            (evalMs / tickMs).toFixed(2),
          ]);
        } finally {
          await app.stop();
        }
      } finally {
        await database.drop();
      }
    }
  } finally {
    await stub.stop();
  }
  console.log(
    `usage alerts: evaluation after a sync vs the sync tick, median of ${RUNS} after 1 warm-up; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  console.log(formatTable(['orgs', 'tenants', 'tick ms', 'evaluate ms', 'eval / tick'], rows));
  return rows;
}

async function seed(url: string, orgs: number): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const orgIds = Array.from({ length: orgs }, () => `org_${base32(randomBytes(10))}`);
    // JSON rather than array parameters: one text parameter each, whatever the count.
    await sql`insert into organisations (id, name)
      select value, 'Alerts bench' from jsonb_array_elements_text(${sql.json(orgIds)})`;
    const tenants = orgIds.flatMap((org) =>
      Array.from({ length: TENANTS_PER_ORG }, (_, i) => ({
        id: `xs_t${i}_${base32(randomBytes(5))}`,
        org,
      })),
    );
    await sql`insert into tenants (id, organisation_id, display_name, environment, region, cell)
      select t.id, t.org, 'Bench', 'prod', 'eu-west-1', 'euw1-01'
      from jsonb_to_recordset(${sql.json(tenants)}) as t(id text, org text)`;
    await sql`analyze`;
    return tenants.map((t) => t.id);
  } finally {
    await sql.end();
  }
}
