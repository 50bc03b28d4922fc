import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';
import postgres from 'postgres';
import { DEFAULT_UI_DIR } from '../src/http/ui.ts';
import { ADMIN_DATABASE_URL, createScratchDatabase } from './lib/database.ts';
import { formatTable, sum } from './lib/load.ts';
import { startPrometheusStub } from './lib/prometheus.ts';
import { startTarget } from './lib/target.ts';

/** Issue 9: the first load of the tenants dashboard downloads at most this much gzipped JS. */
export const JS_BUDGET_BYTES = 150_000;
const TENANTS = 100;
const KEYS_PER_TENANT = 2;
/** The portal's own sync timer drives the ticks (the portal is another process). */
const SYNC_INTERVAL_S = 2;
const PASSWORD = 'bench-password-0123456789';
const ORG_FIGURE = '[data-testid="org-active-series"]';
/** The channel of src/lib/events.ts: the sync NOTIFYs `usage.synced` on it after COMMIT. */
const EVENTS_CHANNEL = 'xscaler_events';
/** As test/helpers/browser.ts (which cannot be imported here: it registers vitest hooks). */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const wallClock = () => performance.timeOrigin + performance.now();

export interface Stats {
  runs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface ReloadStats extends Stats {
  /** JavaScript bytes that came over the network in the reload that fetched the most. */
  jsBytes: number;
}

export interface AssetSize {
  path: string;
  kind: 'js' | 'css';
  rawBytes: number;
  /** What Chromium actually received (it asks for br; the portal serves precompressed files). */
  transferredBytes: number;
  transferEncoding: string;
  /** The same file asked for with `accept-encoding: gzip`: what the budget counts. */
  gzipBytes: number;
}

export interface UiBenchResult {
  chromium: string;
  seedSeconds: number;
  firstVisit: { loginFormMs: number; loginToContentMs: number; loginAnswerMs: number };
  warmReload: ReloadStats;
  emptyCacheReload: ReloadStats;
  syncFromNotify: Stats;
  syncFromTickStart: Stats;
  clockOffsetMs: number;
  assets: AssetSize[];
  gzipJsBytes: number;
  withinBudget: boolean;
  pageErrors: string[];
}

/**
 * The browser UI in headless Chromium against a portal in its own process (the node flags of
 * `npm start`, a scratch PostgreSQL database, the stub Prometheus, a 2 s usage sync): time to
 * content of the tenants dashboard with 100 tenants x 2 keys, time from a usage sync's commit
 * to the new figure on the usage page, and the bytes of JS and CSS of the first visit.
 */
export async function benchUi(runs = envNumber('BENCH_UI_RUNS', 10)): Promise<UiBenchResult> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);
  }
  if (!existsSync(join(DEFAULT_UI_DIR, 'index.html'))) {
    throw new Error(`The UI is not built (${DEFAULT_UI_DIR}): run \`npm run ui:build\``);
  }
  const load = loadavg()[0]!;
  const stub = await startPrometheusStub();
  // Until the tenants exist every query answers no series (an unset stub answers 400).
  stub.setTenants([]);
  const database = await createScratchDatabase('ui_bench');
  const syncs = await listenForSyncs(database.url);
  let browser: Browser | undefined;
  try {
    const portal = await startTarget('src/main.ts', {
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      USAGE_PROMETHEUS_URL: stub.url,
      USAGE_SYNC_INTERVAL_S: String(SYNC_INTERVAL_S),
    });
    try {
      const url = portal.url;
      const seedStarted = performance.now();
      const { email, token, tenantIds } = await seed(url);
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      // Usage exists before the first page load, as on a live system.
      const seeded = Date.now();
      stub.setTenants(tenantIds);
      await syncs.after(seeded);

      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        locale: 'en-US',
      });
      await context.addInitScript({ content: markContent(TENANTS) });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));

      const { firstVisit, assets } = await measureFirstVisit(page, url, email);
      const warmReload = await measureReloads(page, url, runs, false);
      const emptyCacheReload = await measureReloads(page, url, runs, true);
      const sync = await measureSyncToScreen(page, url, token, runs, {
        syncs,
        setTenants: (ids) => stub.setTenants(ids),
        tenantIds,
      });
      await context.close();

      const gzipJsBytes = sum(assets.filter((a) => a.kind === 'js').map((a) => a.gzipBytes));
      const result: UiBenchResult = {
        chromium: browser.version(),
        seedSeconds,
        firstVisit,
        warmReload,
        emptyCacheReload,
        ...sync,
        assets,
        gzipJsBytes,
        withinBudget: gzipJsBytes <= JS_BUDGET_BYTES,
        pageErrors,
      };
      report(result, load);
      return result;
    } finally {
      await browser?.close();
      await portal.stop();
    }
  } finally {
    await syncs.stop();
    await database.drop();
    await stub.stop();
  }
}

/**
 * Runs in every document of the context before the UI's scripts: records, in the page's
 * performance.now(), the first animation frame in which the login form is in the DOM, the
 * first `submit`, and the first frame in which all `tenants` rows of the tenants table are
 * laid out (that frame paints them). Source text, not a function: tsx compiles with esbuild's
 * keepNames, whose `__name()` wrappers do not exist in the page.
 */
const markContent = (tenants: number) => `(() => {
  const marks = {};
  window.__bench = marks;
  document.addEventListener('submit', () => { marks.submitAt ??= performance.now(); }, true);
  const frame = () => {
    const now = performance.now();
    if (marks.loginFormAt === undefined && document.querySelector('input[name="password"]')) {
      marks.loginFormAt = now;
    }
    const last = document.querySelectorAll('table tbody tr[data-tenant-id]')[${tenants - 1}];
    if (last && last.getBoundingClientRect().height > 0) {
      marks.contentAt = now;
      return;
    }
    if (now < 120000) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();`;

type Marks = { loginFormAt?: number; submitAt?: number; contentAt?: number };
const readMarks = (page: Page) =>
  page.evaluate(() => (window as unknown as { __bench: Marks }).__bench);
async function waitForContent(page: Page): Promise<void> {
  try {
    await page.waitForFunction(
      () => (window as unknown as { __bench?: Marks }).__bench?.contentAt !== undefined,
      null,
      { timeout: 60_000 },
    );
  } catch (err) {
    // Say what the page showed instead: the usual cause is a UI that changed under the bench.
    const seen = await page
      .evaluate(() => ({
        path: location.pathname,
        rows: document.querySelectorAll('table tbody tr[data-tenant-id]').length,
        marks: (window as unknown as { __bench?: Marks }).__bench,
        text: document.body.textContent?.slice(0, 300),
      }))
      .catch(() => null);
    throw new Error(`tenants never all shown: ${JSON.stringify(seen)}`, { cause: err });
  }
}

/**
 * A new visitor, empty cache: the login page, then "Log in" through the form until the
 * dashboard shows every tenant. Every JS and CSS file fetched until then is the first load.
 */
async function measureFirstVisit(page: Page, url: string, email: string) {
  const fetched = new Map<string, { transferredBytes: number; encoding: string }>();
  const pending: Promise<void>[] = [];
  const onFinished = (request: Request) => {
    const path = new URL(request.url()).pathname;
    if (!/\.(js|css)$/.test(path)) return;
    pending.push(
      (async () => {
        const [sizes, response] = await Promise.all([request.sizes(), request.response()]);
        fetched.set(path, {
          transferredBytes: sizes.responseBodySize,
          encoding: response?.headers()['content-encoding'] ?? 'identity',
        });
      })(),
    );
  };
  page.on('requestfinished', onFinished);
  const started = wallClock();
  await page.goto(`${url}/ui/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  // The login mutation on its own: most of it is the server's scrypt check of the password.
  const answered = page
    .waitForResponse((r) => /\bmutation Login\b/.test(r.request().postData() ?? ''))
    .then(async (response) => {
      await response.finished();
      return wallClock();
    });
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await waitForContent(page);
  const marks = await readMarks(page);
  const origin = await page.evaluate(() => performance.timeOrigin);
  const loginAnsweredAt = await answered;
  page.off('requestfinished', onFinished);
  await Promise.all(pending);
  if (fetched.size === 0) throw new Error('the first visit fetched no JS or CSS');

  const assets: AssetSize[] = [];
  for (const [path, seen] of fetched) {
    const gzip = await headSize(`${url}${path}`, 'gzip');
    const raw = await headSize(`${url}${path}`, 'identity');
    assets.push({
      path,
      kind: path.endsWith('.js') ? 'js' : 'css',
      rawBytes: raw.bytes,
      transferredBytes: seen.transferredBytes,
      transferEncoding: seen.encoding,
      gzipBytes: gzip.bytes,
    });
  }
  assets.sort((a, b) => b.kind.localeCompare(a.kind) || b.gzipBytes - a.gzipBytes);
  return {
    firstVisit: {
      loginFormMs: origin + marks.loginFormAt! - started,
      loginToContentMs: marks.contentAt! - marks.submitAt!,
      loginAnswerMs: loginAnsweredAt - (origin + marks.submitAt!),
    },
    assets,
  };
}

/** Content-Length of a HEAD with this Accept-Encoding (the portal serves precompressed files). */
async function headSize(url: string, encoding: string): Promise<{ bytes: number }> {
  const res = await fetch(url, { method: 'HEAD', headers: { 'accept-encoding': encoding } });
  const length = Number(res.headers.get('content-length'));
  if (!res.ok || !Number.isFinite(length)) {
    throw new Error(`HEAD ${url} (${encoding}): HTTP ${res.status}, length ${length}`);
  }
  const served = res.headers.get('content-encoding') ?? 'identity';
  // Files under 512 bytes are not precompressed (ui/vite.config.ts): they go as they are.
  if (served !== encoding && served !== 'identity') {
    throw new Error(`HEAD ${url}: asked for ${encoding}, got ${served}`);
  }
  return { bytes: length };
}

/**
 * The signed-in user opens the dashboard again (the session cookie survives): from the
 * page.goto call to the frame showing every tenant, with the browser cache kept (hashed assets
 * are immutable) or emptied first.
 */
async function measureReloads(
  page: Page,
  url: string,
  runs: number,
  emptyCache: boolean,
): Promise<ReloadStats> {
  const cdp = emptyCache ? await page.context().newCDPSession(page) : undefined;
  const times: number[] = [];
  const jsBytes: number[] = [];
  let fetched: Promise<number>[] = [];
  const onFinished = (request: Request) => {
    if (!new URL(request.url()).pathname.endsWith('.js')) return;
    // -1 when it came from the cache.
    fetched.push(request.sizes().then((s) => Math.max(0, s.responseBodySize)));
  };
  page.on('requestfinished', onFinished);
  try {
    for (let i = 0; i < runs; i++) {
      await cdp?.send('Network.clearBrowserCache');
      fetched = [];
      const started = wallClock();
      await page.goto(`${url}/ui/`, { waitUntil: 'commit' });
      await waitForContent(page);
      const { contentAt, loginFormAt } = await readMarks(page);
      if (loginFormAt !== undefined) throw new Error('the reload showed the login form');
      const origin = await page.evaluate(() => performance.timeOrigin);
      times.push(origin + contentAt! - started);
      jsBytes.push(sum(await Promise.all(fetched)));
    }
  } finally {
    page.off('requestfinished', onFinished);
    await cdp?.detach();
  }
  // Else the "empty cache" figures would be the warm ones again.
  if (emptyCache && jsBytes.some((b) => b === 0)) {
    throw new Error('a reload after Network.clearBrowserCache fetched no JavaScript');
  }
  return { ...stats(times), jsBytes: Math.max(...jsBytes) };
}

interface SyncFeed {
  /** The first `usage.synced` of a tick that started after `afterMs` (wall clock). */
  after(afterMs: number, timeoutMs?: number): Promise<SyncSeen>;
  stop(): Promise<void>;
}

interface SyncSeen {
  /** The tick's start (its `at`, before the Prometheus queries and the write). */
  tickAt: number;
  /** When the NOTIFY, sent right after the COMMIT, reached this process. */
  notifiedAt: number;
}

/** LISTENs on the portal's event channel from this process, on its own connection. */
async function listenForSyncs(databaseUrl: string): Promise<SyncFeed> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const seen: SyncSeen[] = [];
  await sql.listen(EVENTS_CHANNEL, (raw) => {
    const notifiedAt = wallClock();
    const message = JSON.parse(raw) as { topic: string; payload: { at: string } };
    if (message.topic === 'usage.synced') {
      seen.push({ tickAt: Date.parse(message.payload.at), notifiedAt });
    }
  });
  return {
    async after(afterMs, timeoutMs = 10 * SYNC_INTERVAL_S * 1000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const hit = seen.find((s) => s.tickAt > afterMs);
        if (hit) return hit;
        if (performance.now() > deadline) {
          throw new Error(`no usage sync within ${timeoutMs} ms (is the portal syncing?)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    stop: () => sql.end(),
  };
}

/**
 * On the usage page, `runs` times: new numbers in the stub, then the next tick of the portal's
 * own timer syncs them; from that tick's NOTIFY (right after its COMMIT) to the first frame
 * showing the new organisation total. The stub gives the tenant at position i of its list
 * 1000 + i series, so putting r unknown IDs first raises every tenant by r (and the total by
 * 100 r); the sync drops the unknown ones.
 */
async function measureSyncToScreen(
  page: Page,
  url: string,
  token: string,
  runs: number,
  source: { syncs: SyncFeed; setTenants(ids: string[]): void; tenantIds: string[] },
) {
  await page.goto(`${url}/ui/usage`);
  let previous = await orgActiveSeries(url, token);
  await waitForFigure(page, previous);
  const clockOffsetMs = await pageClockOffset(page);
  const fromNotify: number[] = [];
  const fromTick: number[] = [];
  for (let r = 1; r <= runs; r++) {
    const shownBefore = await page.locator(ORG_FIGURE).textContent();
    const change = page.waitForFunction(
      ([selector, before]) => {
        const text = document.querySelector(selector)?.textContent;
        return text && text !== before
          ? { at: performance.timeOrigin + performance.now(), text }
          : false;
      },
      [ORG_FIGURE, shownBefore] as const,
      { polling: 'raf', timeout: 30_000 },
    );
    const setAt = Date.now();
    const padding = Array.from({ length: r }, (_, i) => `xs_bench_unknown_${r}_${i}`);
    source.setTenants([...padding, ...source.tenantIds]);
    const sync = await source.syncs.after(setAt);
    const shown = (await (await change).jsonValue()) as { at: number; text: string };
    const stored = await orgActiveSeries(url, token);
    if (stored === previous || digits(shown.text) !== String(stored)) {
      throw new Error(`run ${r}: page shows ${shown.text}, stored ${stored} (was ${previous})`);
    }
    previous = stored;
    const shownAt = shown.at - clockOffsetMs;
    fromNotify.push(shownAt - sync.notifiedAt);
    fromTick.push(shownAt - sync.tickAt);
  }
  return {
    syncFromNotify: stats(fromNotify),
    syncFromTickStart: stats(fromTick),
    clockOffsetMs,
  };
}

const digits = (text: string) => text.replace(/\D/g, '');

async function waitForFigure(page: Page, value: number): Promise<void> {
  await page.waitForFunction(
    ([selector, expected]) =>
      document.querySelector(selector)?.textContent?.replace(/\D/g, '') === expected,
    [ORG_FIGURE, String(value)] as const,
    { timeout: 30_000 },
  );
}

/**
 * The page's wall clock minus this process's, from the middle of a round trip (both read the
 * same system clock; this only checks that, and removes what is left).
 */
async function pageClockOffset(page: Page): Promise<number> {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 5; i++) {
    const before = wallClock();
    const inPage = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = wallClock();
    if (after - before < best.rtt) {
      best = { rtt: after - before, offset: inPage - (before + after) / 2 };
    }
  }
  return best.offset;
}

/** Signup, the scale plan (100 tenants), then the tenants and their keys, five at a time. */
async function seed(url: string) {
  const email = `ui-bench-${randomBytes(4).toString('hex')}@example.com`;
  const signup = await mutation(
    url,
    undefined,
    'signup',
    `mutation($email: String!, $password: String!) {
      signup(organisationName: "UI bench", email: $email, password: $password) {
        __typename ... on AuthPayload { token } ... on Error { message } } }`,
    { email, password: PASSWORD },
  );
  const token = signup.token as string;
  await mutation(
    url,
    token,
    'changePlan',
    'mutation { changePlan(plan: scale) { __typename ... on Error { message } } }',
  );
  const tenantIds: string[] = new Array(TENANTS);
  let next = 0;
  const worker = async () => {
    while (next < TENANTS) {
      const i = next++;
      const tenant = await mutation(
        url,
        token,
        'createTenant',
        `mutation($name: String!) { createTenant(displayName: $name, environment: prod) {
          __typename ... on Tenant { id } ... on Error { message } } }`,
        { name: `Bench tenant ${String(i).padStart(3, '0')}` },
      );
      tenantIds[i] = tenant.id as string;
      for (let k = 0; k < KEYS_PER_TENANT; k++) {
        await mutation(
          url,
          token,
          'createApiKey',
          `mutation($tenantId: ID!, $name: String!) {
            createApiKey(tenantId: $tenantId, displayName: $name) {
              __typename ... on IssuedApiKey { key } ... on Error { message } } }`,
          { tenantId: tenant.id, name: `key ${k}` },
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 5 }, worker));
  return { email, token, tenantIds };
}

async function orgActiveSeries(url: string, token: string): Promise<number> {
  const data = await graphql(url, token, '{ organisation { usage { activeSeries } } }');
  return (data.organisation as { usage: { activeSeries: number } }).usage.activeSeries;
}

/** Runs one mutation and returns its payload; GraphQL errors and typed error results throw. */
async function mutation(
  url: string,
  token: string | undefined,
  field: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const data = await graphql(url, token, query, variables);
  const payload = data[field] as Record<string, unknown> | null;
  if (!payload || 'message' in payload) {
    throw new Error(`${field} failed: ${JSON.stringify(payload)}`);
  }
  return payload;
}

async function graphql(
  url: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`GraphQL failed: ${JSON.stringify(body)}`);
  return body.data;
}

/** Nearest rank: with 10 runs p95 is the slowest. */
function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  return {
    runs: sorted.length,
    p50Ms: rank(0.5),
    p95Ms: rank(0.95),
    maxMs: sorted[sorted.length - 1]!,
  };
}

function report(r: UiBenchResult, load: number): void {
  const ms = (n: number) => n.toFixed(0);
  const kb = (bytes: number) => (bytes / 1000).toFixed(1);
  const database = new URL(ADMIN_DATABASE_URL).host;
  console.log(
    `browser UI: portal in its own process (npm start's node flags, scratch PostgreSQL at ${database}, ` +
      `usage sync every ${SYNC_INTERVAL_S} s from the stub Prometheus), ${TENANTS} tenants x ` +
      `${KEYS_PER_TENANT} keys (seeded over GraphQL in ${r.seedSeconds.toFixed(1)} s), headless ` +
      `Chromium ${r.chromium} at 1280x800; load average ${load.toFixed(1)} on ${cpus().length} cores at start`,
  );
  const row = (name: string, s: Stats & { jsBytes?: number }) => [
    name,
    String(s.runs),
    ms(s.p50Ms),
    ms(s.p95Ms),
    ms(s.maxMs),
    s.jsBytes === undefined ? '' : kb(s.jsBytes),
  ];
  const once = (name: string, value: number) => [name, '1', ms(value), '', '', ''];
  console.log(
    formatTable(
      ['', 'runs', 'p50 ms', 'p95 ms', 'max ms', 'JS fetched kB'],
      [
        once('first visit, empty cache: page.goto to login form', r.firstVisit.loginFormMs),
        once('first visit: "Log in" submit to all tenants shown', r.firstVisit.loginToContentMs),
        once('  of which the login mutation (scrypt check)', r.firstVisit.loginAnswerMs),
        row('signed in, reload /ui/, warm cache: to all tenants shown', r.warmReload),
        row('signed in, reload /ui/, empty cache: to all tenants shown', r.emptyCacheReload),
        row('usage sync: commit (NOTIFY seen) to new figure on /ui/usage', r.syncFromNotify),
        row('usage sync: tick start to new figure on /ui/usage', r.syncFromTickStart),
      ],
    ),
  );
  console.log(
    `time to content: page.goto (or submit) to the first animation frame with all ${TENANTS} ` +
      'rows laid out; sync: to the first frame with the new total in [data-testid="org-active-series"] ' +
      `(page clock - node clock: ${r.clockOffsetMs.toFixed(2)} ms, corrected)`,
  );
  console.log('\nfirst visit (login page, then the tenants dashboard), JS and CSS fetched:');
  const total = (kind: 'js' | 'css') => {
    const of = r.assets.filter((a) => a.kind === kind);
    return [
      `${kind === 'js' ? 'JavaScript' : 'CSS'} total (${of.length} files)`,
      kb(sum(of.map((a) => a.rawBytes))),
      kb(sum(of.map((a) => a.transferredBytes))),
      '',
      kb(sum(of.map((a) => a.gzipBytes))),
    ];
  };
  console.log(
    formatTable(
      ['', 'raw kB', 'transferred kB', 'as', 'gzip kB'],
      [
        ...r.assets.map((a) => [
          a.path,
          kb(a.rawBytes),
          kb(a.transferredBytes),
          a.transferEncoding,
          kb(a.gzipBytes),
        ]),
        total('js'),
        total('css'),
      ],
    ),
  );
  console.log(
    `${r.withinBudget ? 'BUDGET OK' : 'OVER BUDGET'}: ${kb(r.gzipJsBytes)} kB of gzipped JavaScript ` +
      `on the first load (budget ${kb(JS_BUDGET_BYTES)} kB, 1 kB = 1000 bytes)`,
  );
  if (r.pageErrors.length > 0) {
    console.log(`page errors (${r.pageErrors.length}):\n  ${r.pageErrors.join('\n  ')}`);
  }
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!(Number.isInteger(value) && value > 0)) {
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  }
  return value;
}
