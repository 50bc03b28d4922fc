import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/client.ts';
import { createGraphQLHandler } from './graphql/json-post.ts';
import { attachGraphQLWebSocket } from './graphql/ws.ts';
import { createGraphQLServer } from './graphql/yoga.ts';
import { corsPolicy } from './http/cors.ts';
import { healthRoutes } from './http/health.ts';
import { listenForMetrics, type MetricsListener, metricsRoute } from './http/metrics-door.ts';
import { requestMetrics } from './http/request-metrics.ts';
import { createHttpServer, type HttpServer, type Route } from './http/server.ts';
import { uiRoutes } from './http/ui.ts';
import { type Clock, systemClock } from './lib/clock.ts';
import type { Deps } from './lib/deps.ts';
import { EventBus } from './lib/events.ts';
import { cryptoRandom, type RandomSource } from './lib/ids.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { Metrics } from './lib/metrics.ts';
import { type AuditRetention, createAuditRetention } from './modules/audit/audit-retention.ts';
import { Passwords } from './modules/auth/password.ts';
import { sessionCookieRoutes } from './modules/auth/session-cookie.rest.ts';
import { signingSecret } from './modules/auth/tokens.ts';
import { createUsageSync, type UsageSync } from './modules/usage/usage-sync.ts';
import { verifyRoutes } from './modules/verify/verify.route.ts';
import { restRoutes } from './rest/rest-routes.ts';
import { createServices, type Services } from './services.ts';

export interface AppOverrides {
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  /** An already-open database (tests share one per file). */
  database?: Database;
  /**
   * Set in a node:cluster worker: its series carry these labels, and /metrics on the main port
   * answers the primary's merged scrape (METRICS_PORT is then the primary's, not ours).
   */
  clusterWorker?: { labels: Record<string, string>; scrape: () => Promise<string> };
}

export interface App {
  config: Config;
  database: Database;
  services: Services;
  deps: Deps;
  usageSync: UsageSync;
  auditRetention: AuditRetention;
  http: HttpServer;
  /** The METRICS_PORT listener's base URL once started, when this app has one. */
  readonly metricsUrl: string | undefined;
  start(): Promise<{ port: number; url: string; metricsUrl?: string }>;
  /**
   * Drains (readiness off, `Connection: close`) for SHUTDOWN_DRAIN_S unless `drain: false`, then
   * stops. Called again while draining, it skips the rest of the delay.
   */
  stop(options?: { drain?: boolean }): Promise<void>;
}

/** Wires database, services and the HTTP doors; nothing listens until start(). */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel, undefined, config.logFormat);
  const ownsDatabase = !overrides.database;
  const database =
    overrides.database ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      pgliteDir: config.pgliteDir,
      poolMax: config.dbPoolMax,
      deadlines: config.dbDeadlines,
    }));
  config.trustedProxies.onIgnoredForwarding = () =>
    logger.warn(
      'X-Forwarded-For ignored: TRUSTED_PROXIES is empty, so every client behind a proxy shares its address in the per-address limits; list the proxies there',
    );
  const metrics = new Metrics(overrides.clusterWorker?.labels);
  if (database.poolStats) metrics.watchPool(database.poolStats);
  const events = new EventBus(
    database.notifier,
    logger.child({ component: 'events' }),
    database.kind === 'postgres',
    metrics.events,
  );

  const secret = signingSecret(config, logger);
  const deps: Deps = {
    db: database.db,
    statement: database.statement,
    config,
    clock: overrides.clock ?? systemClock,
    random: overrides.random ?? cryptoRandom,
    logger,
    events,
    passwords: new Passwords(
      { concurrency: config.credentials.hashConcurrency, queue: config.credentials.hashQueue },
      config.credentials.hashLogN,
    ),
    metrics,
  };
  const services = createServices(deps, {
    secret: new TextEncoder().encode(secret),
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.jwt.ttlSeconds,
  });
  const yoga = createGraphQLServer({ config, db: database.db, services, logger });
  const scrape = overrides.clusterWorker?.scrape ?? (() => metrics.scrape());
  const ownMetricsPort = config.metrics.port !== undefined && !overrides.clusterWorker;
  const http = createHttpServer(
    [
      ...verifyRoutes(services.verify, config.trustedProxies, logger, metrics.verify),
      ...door('rest', restRoutes(services, deps)),
      ...door('rest', sessionCookieRoutes(services.auth, deps.clock, config.trustedProxies)),
      {
        path: '/graphql',
        door: 'graphql',
        handler: createGraphQLHandler(yoga, logger, corsPolicy(config.corsOrigins)),
      },
      ...door(
        'health',
        healthRoutes(database, () => http.draining),
      ),
      ...door('ui', uiRoutes()),
      ...(config.metrics.port === undefined ? [metricsRoute(scrape, logger)] : []),
    ],
    logger,
    deps.clock,
    requestMetrics(metrics),
  );
  let metricsListener: MetricsListener | undefined;
  const webSocket = attachGraphQLWebSocket(http.server, yoga, logger);
  const usageSync = createUsageSync(deps, database);
  const auditRetention = createAuditRetention(deps, database, services.audit);
  let stopping: Promise<void> | undefined;
  let endDrain: (() => void) | undefined;

  return {
    config,
    database,
    services,
    deps,
    usageSync,
    auditRetention,
    http,
    get metricsUrl() {
      return metricsListener?.url;
    },
    async start() {
      await events.start();
      await services.verify.start();
      services.usageFeed.start();
      usageSync.start();
      auditRetention.start();
      await new Promise<void>((resolve, reject) => {
        http.server.once('error', reject);
        http.server.listen(config.port, config.host, () => resolve());
      });
      if (ownMetricsPort) {
        metricsListener = await listenForMetrics(
          config.metrics.port!,
          config.metrics.host,
          scrape,
          logger,
        );
      }
      const { port } = http.server.address() as AddressInfo;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      return { port, url: `http://${host}:${port}`, metricsUrl: metricsListener?.url };
    },
    stop(options = {}) {
      if (stopping) {
        endDrain?.();
        return stopping;
      }
      // Synchronously: readiness is off from the moment stop() is called.
      http.beginDrain();
      const drainMs = options.drain === false ? 0 : config.shutdownDrainSeconds * 1000;
      stopping = (async () => {
        if (drainMs > 0) {
          logger.info({ seconds: drainMs / 1000 }, 'shutdown: draining before the listener closes');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, drainMs);
            endDrain = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        // New connections are refused from now on (a client reconnecting goes elsewhere).
        http.closeListener();
        // WebSocket clients get 1001 while their subscriptions still run: they reconnect
        // elsewhere and subscribe again. Ending a subscription first would send `complete`,
        // and a client drops a completed operation for good.
        await webSocket.dispose();
        await usageSync.stop();
        // The last sync's alert evaluation finishes before the database goes.
        await services.usageAlerts.settled();
        await auditRetention.stop();
        // Ends the SSE streams, which would otherwise hold the next step for its whole limit.
        services.usageFeed.stop();
        // Requests in flight finish (up to 10 s) before the database goes away.
        await http.close();
        await services.verify.stop();
        await events.stop();
        await metricsListener?.close();
        if (ownsDatabase) await database.close();
      })();
      return stopping;
    },
  };
}

/** Tags routes with their door, for the request metrics. */
function door(name: string, routes: Route[]): Route[] {
  return routes.map((route) => ({ ...route, door: name }));
}
