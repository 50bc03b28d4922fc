import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { subscribe as listen, unsubscribe as unlisten } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { sessions } from '../src/db/schema.ts';
import type { Clock } from '../src/lib/clock.ts';
import { newId } from '../src/lib/ids.ts';
import { LIVE_STAGES, type LiveStageMessage } from '../src/lib/live-stages.ts';
import { issueToken } from '../src/modules/auth/tokens.ts';
import { createScratchDatabase } from './lib/database.ts';
import { formatTable, sum } from './lib/load.ts';
import { startPrometheusStub } from './lib/prometheus.ts';
import type { Command, Reply, Transport } from './lib/usage-subscribers.ts';

/** Delivery p99 after commit, per transport (issue 12); spread over two instances: 1 s. */
export const TARGET_P99_MS: Record<Transport, number> = { ws: 250, sse: 100 };
const TARGET_P99_TWO_INSTANCES_MS = 1_000;
const INTERVAL_MS = 60_000;
const QUERY = 'subscription { orgUsageUpdated { activeSeries syncedAt } }';
const THIS_FILE = fileURLToPath(import.meta.url);
const SUBSCRIBERS_SCRIPT = fileURLToPath(new URL('./lib/usage-subscribers.ts', import.meta.url));

export interface FanoutRow {
  transport: Transport;
  subscribers: number;
  /** Portal instances on the one PostgreSQL; subscribers spread evenly over them. */
  instances: number;
  openSeconds: number;
  /** Server memory growth per connected subscriber, after a forced GC, in bytes. */
  rssPerSubscriber: number;
  heapPerSubscriber: number;
  /** One entry per sync: the first (cold) and the second. */
  deliveries: Delivery[];
}

interface Delivery {
  received: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * p99 after the tick started, which is the payload's `syncedAt`: what a dashboard sees, lock,
   * source fetch and writes included (the source here is a local stub).
   */
  p99FromTickMs: number;
  /** When 'usage.synced' came back to this instance over LISTEN, after the commit. */
  eventMs: number;
  /** Server CPU (user + system) from the sync until the last subscriber had it. */
  serverCpuMs: number;
  stages: Stages;
}

/** Where the time went in one sync, from the server's stage marks (src/lib/live-stages.ts). */
interface Stages {
  /** Durations, ms: lock + source fetch, the write transaction, commit to the feed hearing NOTIFY, its reads and re-checks, its push loop. */
  fetchMs: number;
  writeMs: number;
  notifyMs: number;
  feedReadMs: number;
  pushMs: number;
  /** GraphQL executions for the event, and their summed time. */
  executions: number;
  executionMs: number;
  /** After the commit, ms: the first and last `next` written (WebSocket or SSE), the first subscriber's receipt. */
  firstWriteMs: number;
  lastWriteMs: number;
  firstReceivedMs: number;
}

/** How the subscribers are spread: portal instances, load-generator processes. */
interface Spread {
  instances: number;
  clients: number;
}

/**
 * Portal instances (PostgreSQL scratch database; one by default) with many subscribers of
 * `orgUsageUpdated` in one organisation, opened by other processes; one usage sync, then how
 * long after the commit each subscriber got the update. graphql-ws and SSE separately, each in
 * fresh server processes, so one's leftover heap does not hide the other's memory.
 *
 * `BENCH_FANOUT_SESSIONS=<n>` (default 1): the subscribers use n logins of the one user in
 * turn, so the feed's re-check reads n sessions per push, as n dashboards would.
 *
 * Knobs for the large run (`BENCH_FANOUT_INSTANCES=2 BENCH_FANOUT_CLIENTS=4 BENCH_FANOUT_WS=36000
 * BENCH_FANOUT_TRANSPORTS=ws`): the other instances (processes) on the same database hear the
 * sync over NOTIFY; each client process opens its share from its own 127.0.0.x source address.
 * Every process holds at most its open-files limit of sockets: 50,000 needs
 * `BENCH_FANOUT_INSTANCES=4` where that is 20,000, which is two instances of `WORKERS=2` (each
 * worker is a whole instance to the database: its own LISTEN, feed and pool).
 */
export async function benchUsageFanout(
  counts: Record<Transport, number> = {
    ws: envNumber('BENCH_FANOUT_WS', 10_000),
    sse: envNumber('BENCH_FANOUT_SSE', 2_000),
  },
  spread: Spread = {
    instances: envNumber('BENCH_FANOUT_INSTANCES', 1),
    clients: envNumber('BENCH_FANOUT_CLIENTS', 1),
  },
): Promise<FanoutRow[]> {
  const transports = (process.env.BENCH_FANOUT_TRANSPORTS ?? 'ws,sse').split(',');
  if (!transports.every((t) => t === 'ws' || t === 'sse')) {
    throw new Error(`BENCH_FANOUT_TRANSPORTS must list ws and/or sse, got ${transports}`);
  }
  if (spread.instances > 8) throw new Error('BENCH_FANOUT_INSTANCES must be 1 to 8');
  checkFileLimit(Math.max(...transports.map((t) => counts[t as Transport])) / spread.instances);
  const load = loadavg()[0]!;
  const rows: FanoutRow[] = [];
  for (const transport of transports as Transport[]) {
    rows.push(await measureInServerProcess(transport, counts[transport], spread));
  }
  report(rows, load);
  return rows;
}

/** Runs this file as the server process for one transport (see the bottom of the file). */
function measureInServerProcess(
  transport: Transport,
  count: number,
  spread: Spread,
): Promise<FanoutRow> {
  const args = [transport, String(count), String(spread.instances), String(spread.clients)];
  const child = fork(THIS_FILE, args, {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (row: FanoutRow) => resolve(row));
    child.once('exit', (code) => reject(new Error(`${transport} fan-out exited with ${code}`)));
  });
}

function benchConfig(databaseUrl: string, stubUrl: string, jwtSecret: string) {
  return loadConfig({
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret,
    JWT_TTL_S: '86400',
    LOG_LEVEL: 'warn',
    USAGE_PROMETHEUS_URL: stubUrl,
  });
}

/** The server side of one measurement: this process is the (first) portal instance. */
async function serveAndMeasure(
  transport: Transport,
  count: number,
  spread: Spread,
): Promise<FanoutRow> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with --expose-gc: memory is read after a full collection');
  const stub = await startPrometheusStub();
  const database = await createScratchDatabase('usage_fanout_bench');
  const clock = new ShiftedClock();
  const jwtSecret = randomBytes(32).toString('hex');
  try {
    const app = await createApp(benchConfig(database.url, stub.url, jwtSecret), { clock });
    const peers: Peer[] = [];
    try {
      const { url } = await app.start();
      // Only the bench's ticks: the wall-clock timer would push extra events mid-measurement.
      await app.usageSync.stop();
      for (let i = 1; i < spread.instances; i++)
        peers.push(await startPeer(database.url, stub.url, jwtSecret));
      const { token, tenantIds } = await signupWithTenants(url, 3);
      const tokens = await moreSessions(app, clock, jwtSecret, token, SESSIONS);
      stub.setTenants(tenantIds);
      await triggerSync(app, clock); // usage exists before anyone subscribes
      const urls = [url, ...peers.map((peer) => peer.url)];
      return await measure(app, clock, gc, peers, { transport, urls, tokens, count, ...spread });
    } finally {
      await Promise.all(peers.map((peer) => peer.stop()));
      await app.stop();
    }
  } finally {
    await database.drop();
    await stub.stop();
  }
}

interface Target extends Spread {
  transport: Transport;
  urls: string[];
  /** Subscriber i uses tokens[i % tokens.length]: one per login. */
  tokens: string[];
  count: number;
}

async function measure(
  app: App,
  clock: ShiftedClock,
  gc: () => void,
  peers: Peer[],
  target: Target,
): Promise<FanoutRow> {
  const feed = app.services.usageFeed;
  const peerCpu = async () => sum(await Promise.all(peers.map((peer) => peer.ask('cpu'))));
  const subscribed = async () =>
    feed.subscriberCount + sum(await Promise.all(peers.map((peer) => peer.ask('count'))));
  const memory = async () => {
    const own = await memoryAfterGc(gc);
    const others = await Promise.all(peers.map((peer) => peer.ask('memory')));
    return {
      rss: own.rss + sum(others.map((o) => o.rss)),
      heapUsed: own.heapUsed + sum(others.map((o) => o.heapUsed)),
    };
  };
  const before = await memory();
  const clients = startClients(target.clients);
  try {
    const opened = await clients.open(target);
    if (opened.failed > 0) {
      throw new Error(
        `${opened.failed} ${target.transport} subscribers failed: ${opened.firstError}`,
      );
    }
    // Acknowledged is not yet subscribed: wait until the feeds have them all.
    await waitUntilAsync(
      async () => (await subscribed()) === target.count,
      120_000,
      'all subscribed',
    );
    const after = await memory();
    const deliveries: Delivery[] = [];
    const profiler = await startProfiler();
    for (const events of [1, 2]) {
      // CPU time, unlike latency, barely depends on what else the (shared) machine runs.
      const cpu = process.cpuUsage();
      const peersCpuBefore = await peerCpu();
      const marks = recordStages();
      const sync = await triggerSync(app, clock);
      const { receivedAt, errors } = await clients.collect(events);
      const { user, system } = process.cpuUsage(cpu);
      const peerCpuMs = (await peerCpu()) - peersCpuBefore;
      marks.stop();
      if (errors > 0) throw new Error(`${errors} ${target.transport} subscribers got errors`);
      deliveries.push({
        ...summarise(receivedAt, sync),
        serverCpuMs: (user + system) / 1000 + peerCpuMs,
        stages: stagesOf(marks.messages, sync, receivedAt),
      });
    }
    await profiler?.stop(`usage-fanout-${target.transport}`);
    return {
      transport: target.transport,
      subscribers: target.count,
      instances: target.instances,
      openSeconds: opened.ms / 1000,
      rssPerSubscriber: (after.rss - before.rss) / target.count,
      heapPerSubscriber: (after.heapUsed - before.heapUsed) / target.count,
      deliveries,
    };
  } finally {
    await clients.stop();
    await waitUntilAsync(async () => (await subscribed()) === 0, 60_000, 'all unsubscribed');
  }
}

interface SyncTimes {
  /** Wall-clock ms when the tick started. */
  startAt: number;
  /** Wall-clock ms when the transaction's last statement was sent (commit follows it). */
  commitAt: number;
  /** Wall-clock ms when 'usage.synced' reached this instance's event bus. */
  eventAt: number;
}

const wallClock = () => performance.timeOrigin + performance.now();

/**
 * One tick in a new interval. The commit time is taken from outside the sync: when its last
 * statement inside the write transaction (the usage_sync_state update) is sent. COMMIT follows
 * it, so latencies measured from there are at most a round trip pessimistic.
 */
async function triggerSync(app: App, clock: ShiftedClock): Promise<SyncTimes> {
  clock.advance(INTERVAL_MS);
  const startAt = wallClock();
  let commitAt = 0;
  let eventAt = 0;
  const stopQueries = app.database.onQuery((statement) => {
    if (/^update "usage_sync_state"/.test(statement)) commitAt = wallClock();
  });
  const stopEvents = app.deps.events.subscribe('usage.synced', () => {
    eventAt ||= wallClock();
  });
  try {
    const outcome = await app.usageSync.runTick();
    if (outcome !== 'synced') throw new Error(`usage sync tick ended '${outcome}'`);
    await waitUntil(() => eventAt > 0, 5_000, "'usage.synced' delivered");
  } finally {
    stopQueries();
    stopEvents();
  }
  return { startAt, commitAt, eventAt };
}

/**
 * BENCH_FANOUT_PROFILE=<dir>: a CPU profile of the server over the measured syncs, written as
 * <dir>/usage-fanout-<transport>.cpuprofile (open it in Chrome DevTools or speedscope).
 */
async function startProfiler() {
  const dir = process.env.BENCH_FANOUT_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(name: string) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(`${dir}/${name}.cpuprofile`, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** Listens to the server's stage marks (this process is the portal instance). */
function recordStages() {
  const messages: LiveStageMessage[] = [];
  const onMessage = (message: unknown) => messages.push(message as LiveStageMessage);
  listen(LIVE_STAGES, onMessage);
  return { messages, stop: () => unlisten(LIVE_STAGES, onMessage) };
}

function stagesOf(messages: LiveStageMessage[], sync: SyncTimes, receivedAt: number[]): Stages {
  const first = (stage: LiveStageMessage['stage']) =>
    messages.find((m) => m.stage === stage)?.at ?? Number.NaN;
  const last = (stage: LiveStageMessage['stage']) =>
    messages.filter((m) => m.stage === stage).pop()?.at ?? Number.NaN;
  const executed = messages.filter((m) => m.stage === 'executed');
  const received = receivedAt.filter((t) => !Number.isNaN(t));
  return {
    fetchMs: first('sync-fetched') - sync.startAt,
    writeMs: first('sync-written') - first('sync-fetched'),
    notifyMs: first('feed-event') - first('sync-written'),
    feedReadMs: first('feed-read') - first('feed-event'),
    pushMs: first('feed-pushed') - first('feed-read'),
    executions: executed.length,
    executionMs: executed.reduce((sum, m) => sum + (m.ms ?? 0), 0),
    firstWriteMs: first('socket-written') - sync.commitAt,
    lastWriteMs: last('socket-written') - sync.commitAt,
    firstReceivedMs: Math.min(...received) - sync.commitAt,
  };
}

function summarise(
  receivedAt: number[],
  sync: SyncTimes,
): Omit<Delivery, 'serverCpuMs' | 'stages'> {
  const latencies = receivedAt
    .filter((t) => !Number.isNaN(t))
    .map((t) => t - sync.commitAt)
    .sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    received: latencies.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    p99FromTickMs: at(0.99) + sync.commitAt - sync.startAt,
    maxMs: latencies[latencies.length - 1] ?? Number.NaN,
    eventMs: sync.eventAt - sync.commitAt,
  };
}

/** The child process holding the subscribers, driven one command at a time. */
function startSubscribers() {
  const child: ChildProcess = fork(SUBSCRIBERS_SCRIPT, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ask<T extends Reply['type']>(
      command: Command,
      expect: T,
    ): Promise<Extract<Reply, { type: T }>> {
      return new Promise((resolve, reject) => {
        const onExit = (code: number | null) =>
          reject(new Error(`subscribers exited with ${code}`));
        child.once('exit', onExit);
        child.once('message', (reply: Reply) => {
          child.off('exit', onExit);
          if (reply.type === expect) resolve(reply as Extract<Reply, { type: T }>);
          else reject(new Error(`expected '${expect}' from subscribers, got '${reply.type}'`));
        });
        child.send(command);
      });
    },
    async stop() {
      if (child.connected) child.send({ type: 'close' } satisfies Command);
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000, false)]);
      if (!stopped) child.kill();
    },
  };
}

/**
 * `count` load-generator processes; client i opens its share of the subscribers on instance
 * i mod instances, from source address 127.0.0.(2 + i), so no address runs out of ports.
 */
function startClients(count: number) {
  const clients = Array.from({ length: count }, () => startSubscribers());
  return {
    async open(target: Target) {
      const replies = await Promise.all(
        clients.map((c, i) => {
          const share = Math.floor(target.count / count) + (i < target.count % count ? 1 : 0);
          return c.ask(
            {
              type: 'open',
              query: QUERY,
              transport: target.transport,
              url: target.urls[i % target.urls.length]!,
              // Each client takes the logins in turn from where the previous share ended.
              tokens: rotate(target.tokens, i * Math.floor(target.count / count)),
              count: share,
              localAddress: count > 1 ? `127.0.0.${2 + i}` : undefined,
              // Together no more connections at once than one client would open.
              concurrency: Math.ceil(200 / count),
            },
            'opened',
          );
        }),
      );
      return {
        failed: replies.reduce((sum, r) => sum + r.failed, 0),
        firstError: replies.find((r) => r.firstError)?.firstError,
        ms: Math.max(...replies.map((r) => r.ms)),
      };
    },
    async collect(events: number) {
      const replies = await Promise.all(
        clients.map((c) => c.ask({ type: 'collect', events, timeoutMs: 60_000 }, 'collected')),
      );
      return {
        receivedAt: replies.flatMap((r) => r.receivedAt),
        errors: replies.reduce((sum, r) => sum + r.errors, 0),
      };
    },
    stop: () => Promise.all(clients.map((c) => c.stop())),
  };
}

/** A second portal instance on the same database, in its own process, driven over IPC. */
interface Peer {
  url: string;
  ask(what: 'count'): Promise<number>;
  /** The peer's CPU time so far (user + system), ms. */
  ask(what: 'cpu'): Promise<number>;
  ask(what: 'memory'): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

function startPeer(databaseUrl: string, stubUrl: string, jwtSecret: string): Promise<Peer> {
  const child = fork(THIS_FILE, ['peer', databaseUrl, stubUrl, jwtSecret], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = () => new Promise<any>((resolve) => child.once('message', resolve));
  return next().then(({ url }: { url: string }) => ({
    url,
    ask(what: 'count' | 'cpu' | 'memory') {
      const answer = next();
      child.send(what);
      return answer;
    },
    async stop() {
      if (child.connected) child.send('stop');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill();
    },
  })) as Promise<Peer>;
}

/** The peer's side: an instance whose feed hears the first instance's sync over NOTIFY. */
async function servePeer(databaseUrl: string, stubUrl: string, jwtSecret: string) {
  const gc = globalThis.gc!;
  const app = await createApp(benchConfig(databaseUrl, stubUrl, jwtSecret));
  const { url } = await app.start();
  await app.usageSync.stop();
  process.on('message', async (what: string) => {
    if (what === 'count') process.send!(app.services.usageFeed.subscriberCount);
    else if (what === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!((user + system) / 1000);
    } else if (what === 'memory') {
      const { rss, heapUsed } = await memoryAfterGc(gc);
      process.send!({ rss, heapUsed });
    } else {
      await app.stop();
      process.exit(0);
    }
  });
  process.send!({ url });
}

const SESSIONS = envNumber('BENCH_FANOUT_SESSIONS', 1);

const rotate = <T>(items: T[], by: number) => {
  const at = by % items.length;
  return [...items.slice(at), ...items.slice(0, at)];
};

/**
 * `count` logins of the signed-up user, the first being its own: the other sessions are
 * inserted directly and their tokens signed with the bench's secret, as login would (login
 * itself costs a scrypt hash each and is rate limited per account).
 */
async function moreSessions(
  app: App,
  clock: Clock,
  jwtSecret: string,
  token: string,
  count: number,
): Promise<string[]> {
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
    sub: string;
    ver: number;
  };
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + app.config.sessionMaxAgeSeconds * 1000);
  const rows = Array.from({ length: count - 1 }, () => ({
    id: newId('ses'),
    userId: claims.sub,
    refreshHash: randomBytes(32).toString('hex'),
    tokenVersion: claims.ver,
    createdAt: now,
    expiresAt,
  }));
  for (let i = 0; i < rows.length; i += 1_000) {
    await app.database.db.insert(sessions).values(rows.slice(i, i + 1_000));
  }
  const settings = {
    secret: new TextEncoder().encode(jwtSecret),
    issuer: app.config.jwt.issuer,
    audience: app.config.jwt.audience,
    ttlSeconds: app.config.jwt.ttlSeconds,
  };
  const issued = await Promise.all(
    rows.map(async (row) => {
      const claimsOf = { userId: claims.sub, version: claims.ver, sessionId: row.id };
      return (await issueToken(settings, clock, claimsOf, expiresAt)).token;
    }),
  );
  return [token, ...issued];
}

/** Signs up (the token lives JWT_TTL_S = 1 day) and creates a few tenants with usage. */
async function signupWithTenants(url: string, tenants: number) {
  const signup = await graphql(
    url,
    undefined,
    `mutation($email: String!) { signup(organisationName: "Fan-out", email: $email,
      password: "bench-password-0123456789") { ... on AuthPayload { token } } }`,
    { email: `fanout-${randomBytes(4).toString('hex')}@example.com` },
  );
  const token = signup.signup?.token as string;
  if (!token) throw new Error(`signup failed: ${JSON.stringify(signup)}`);
  const tenantIds: string[] = [];
  for (let i = 0; i < tenants; i++) {
    const created = await graphql(
      url,
      token,
      `mutation($name: String!) { createTenant(displayName: $name, environment: prod) {
        ... on Tenant { id } } }`,
      { name: `Fan-out ${i}` },
    );
    const id = created.createTenant?.id;
    if (!id) throw new Error(`createTenant failed: ${JSON.stringify(created)}`);
    tenantIds.push(id);
  }
  return { token, tenantIds };
}

async function graphql(
  url: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown>,
): Promise<Record<string, Record<string, string> | null>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as {
    data?: Record<string, Record<string, string> | null>;
    errors?: unknown;
  };
  if (!body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body)}`);
  return body.data;
}

/** System time plus an offset the bench moves forward: each sync needs a new interval. */
class ShiftedClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

async function memoryAfterGc(gc: () => void): Promise<NodeJS.MemoryUsage> {
  gc();
  await sleep(200);
  gc();
  return process.memoryUsage();
}

/** Every subscriber is one socket on each side: fail early rather than with EMFILE midway. */
function checkFileLimit(sockets: number): void {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s+/)[3]);
  const needed = Math.max(sockets, 0) + 1_000;
  if (soft < needed) {
    throw new Error(`open files limit is ${soft}, need ${needed}: raise it (ulimit -n ${needed})`);
  }
}

async function waitUntilAsync(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function report(rows: FanoutRow[], load: number): void {
  const ms = (n: number) => n.toFixed(0);
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  console.log(
    'usage fan-out: portal instances (own processes, one PostgreSQL), subscribers of orgUsageUpdated ' +
      `in one organisation (${SESSIONS} login${SESSIONS === 1 ? '' : 's'} in turn) opened by client processes; latency = receive time - commit (p99 tick: - the tick's start, the payload's syncedAt); CPU and ` +
      `memory per subscriber: every instance's; ` +
      `load average ${load.toFixed(1)} on ${cpus().length} cores at start`,
  );
  console.log(
    formatTable(
      [
        '',
        'subs',
        'open s',
        'sync',
        'got',
        'p50 ms',
        'p99 ms',
        'max ms',
        'p99 tick ms',
        'event ms',
        'CPU ms',
        'RSS KB/sub',
        'heap KB/sub',
      ],
      rows.flatMap((r) =>
        r.deliveries.map((d, i) => [
          `${r.transport === 'ws' ? 'graphql-ws' : 'SSE'}${r.instances > 1 ? ` on ${r.instances}` : ''}`,
          String(r.subscribers),
          r.openSeconds.toFixed(1),
          i === 0 ? '1st' : '2nd',
          String(d.received),
          ms(d.p50Ms),
          ms(d.p99Ms),
          ms(d.maxMs),
          ms(d.p99FromTickMs),
          ms(d.eventMs),
          ms(d.serverCpuMs),
          kb(r.rssPerSubscriber),
          kb(r.heapPerSubscriber),
        ]),
      ),
    ),
  );
  console.log(
    'where the time went (server stage marks): durations of fetch (lock + source), writes, ' +
      'commit to LISTEN, feed reads + re-checks, push loop; GraphQL executions; then ms after ' +
      'commit of the first and last socket write and the first and 99th-percentile receipt ' +
      '(server marks from the syncing instance only)',
  );
  // NaN (no such mark) arrives as null over IPC.
  const ms1 = (n: number | null) => (n === null || Number.isNaN(n) ? '-' : n.toFixed(1));
  console.log(
    formatTable(
      [
        '',
        'sync',
        'fetch',
        'writes',
        'NOTIFY',
        'feed reads',
        'push loop',
        'executions',
        'exec ms',
        '1st write',
        'last write',
        '1st recv',
        'p99 recv',
      ],
      rows.flatMap((r) =>
        r.deliveries.map((d, i) => [
          `${r.transport === 'ws' ? 'graphql-ws' : 'SSE'}${r.instances > 1 ? ` on ${r.instances}` : ''}`,
          i === 0 ? '1st' : '2nd',
          ms1(d.stages.fetchMs),
          ms1(d.stages.writeMs),
          ms1(d.stages.notifyMs),
          ms1(d.stages.feedReadMs),
          ms1(d.stages.pushMs),
          String(d.stages.executions),
          ms1(d.stages.executionMs),
          ms1(d.stages.firstWriteMs),
          ms1(d.stages.lastWriteMs),
          ms1(d.stages.firstReceivedMs),
          ms(d.p99Ms),
        ]),
      ),
    ),
  );
  for (const r of rows) {
    const worst = Math.max(...r.deliveries.map((d) => d.p99Ms));
    const target = r.instances > 1 ? TARGET_P99_TWO_INSTANCES_MS : TARGET_P99_MS[r.transport];
    const verdict = worst <= target ? 'meets' : 'ABOVE';
    console.log(`${r.transport}: worst p99 ${ms(worst)} ms (${verdict} target <= ${target} ms)`);
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

// As the server process of measureInServerProcess: `<transport> <count> <instances> <clients>`,
// answers one FanoutRow; as a second instance: `peer <databaseUrl> <stubUrl> <jwtSecret>`.
if (process.argv[1] === THIS_FILE && process.send && process.argv[2] === 'peer') {
  const [databaseUrl, stubUrl, jwtSecret] = process.argv.slice(3) as [string, string, string];
  servePeer(databaseUrl, stubUrl, jwtSecret).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else if (process.argv[1] === THIS_FILE && process.send) {
  const [transport, count, instances, clients] = process.argv.slice(2);
  serveAndMeasure(transport as Transport, Number(count), {
    instances: Number(instances),
    clients: Number(clients),
  })
    .then((row) => process.send!(row, () => process.exit(0)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
