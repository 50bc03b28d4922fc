import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgAsyncDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { PACKAGE_ROOT } from '../lib/package-root.ts';
import { withDeadline, withPoolDeadline } from './pool-deadline.ts';
import { relations } from './relations.ts';

export type Db = PgAsyncDatabase<PgQueryResultHKT, typeof relations>;

/** Receives every SQL statement the app runs (tests count them). */
export type QueryListener = (sql: string, params: unknown[]) => void;

/**
 * A statement run straight on the driver, rows as arrays of values; see `Database.statement`.
 */
export type RawStatement = (params: unknown[]) => Promise<unknown[][]>;

/** Raw notification channel between instances (Postgres NOTIFY, or in-process on PGlite). */
export interface Notifier {
  notify(channel: string, payload: string): Promise<void>;
  /** Calls onMessage per notification; onReconnect after a lost listening connection came back. */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
}

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  notifier: Notifier;
  /** Runs fn on one connection holding a session-level advisory lock, if it is free. */
  withTryLock<T>(key: bigint, fn: () => Promise<T>): Promise<{ locked: boolean; value?: T }>;
  ping(): Promise<void>;
  onQuery(listener: QueryListener): () => void;
  /**
   * A drizzle-built statement's text run on the driver without drizzle's per-call work (about
   * 10 us of a verification's 110 us of CPU): prepared, rows as arrays, counted by onQuery. For
   * the ingestion hot path only. Select text, numbers, booleans and arrays: the two drivers parse
   * timestamps differently once drizzle is out of the way.
   */
  statement(text: string): RawStatement;
  /** PostgreSQL's pool for the metrics; PGlite has none (one in-process connection). */
  poolStats?(): { max: number; inUse: number; waiting: number };
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  pgliteDir: string;
  poolMax: number;
  /** Deadlines on PostgreSQL (PGlite runs in process, one statement at a time). */
  deadlines?: Partial<DatabaseDeadlines>;
}

export interface DatabaseDeadlines {
  /** statement_timeout of every connection; 0 = none. */
  statementTimeoutMs: number;
  /** Opening a connection (TCP, TLS, authentication). */
  connectTimeoutMs: number;
  /** Waiting for a pooled connection when every one is held (transactions, locks). */
  poolWaitMs: number;
}

export const DEFAULT_DEADLINES: DatabaseDeadlines = {
  statementTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  poolWaitMs: 2_000,
};

const migrationsFolder = join(PACKAGE_ROOT, 'drizzle');
/** Longest wait before reconnecting after a lost connection, in seconds (before jitter). */
const MAX_RECONNECT_DELAY_S = 0.5;
/** Arbitrary constant shared by all instances: only one migrates at a time. */
const MIGRATION_LOCK = 7_245_310_001n;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const listeners = new Set<QueryListener>();
  const logger: DrizzleLogger = {
    logQuery: (query, params) => {
      for (const listener of listeners) listener(query, params);
    },
  };
  const onQuery = (listener: QueryListener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  const deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolMax, deadlines, logger, onQuery)
    : openPglite(options.pgliteDir, logger, onQuery);
}

async function openPostgres(
  url: string,
  poolMax: number,
  deadlines: DatabaseDeadlines,
  logger: DrizzleLogger,
  onQuery: Database['onQuery'],
): Promise<Database> {
  const connect_timeout = deadlines.connectTimeoutMs / 1000;
  // postgres.js's reconnect delay grows 3^failures / 100 s up to 20 s, and an outage counts many
  // failures: service would return long after the database. Capped, it returns within a second.
  const backoff = (retries: number) =>
    (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, MAX_RECONNECT_DELAY_S);
  const connection = {
    statement_timeout: deadlines.statementTimeoutMs,
    idle_in_transaction_session_timeout: 10_000,
  };
  // A separate one-connection client holds the migration lock for the whole migration, which
  // may wait for another instance's and rewrite big tables: no statement_timeout there.
  const migrator = postgres(url, {
    max: 1,
    onnotice: () => {},
    connect_timeout,
    connection: { ...connection, statement_timeout: 0 },
  });
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await migratePostgres(drizzlePostgres({ client: migrator, relations }), { migrationsFolder });
    await migrator`select pg_advisory_unlock(${MIGRATION_LOCK.toString()}::bigint)`;
  } finally {
    await migrator.end();
  }

  const sql = postgres(url, {
    max: poolMax,
    onnotice: () => {},
    connect_timeout,
    backoff,
    connection,
  });
  const pool = withPoolDeadline(sql, deadlines.poolWaitMs);
  const db = drizzlePostgres({
    client: preparing(pool.sql, MAX_PREPARED_STATEMENTS),
    relations,
    logger,
  }) as unknown as Db;
  const notifier: Notifier = {
    async notify(channel, payload) {
      // Through the pool deadline: a request that publishes must not hang on a saturated pool.
      await pool.sql.unsafe('select pg_notify($1, $2)', [channel, payload]);
    },
    async listen(channel, onMessage, onReconnect) {
      let first = true;
      const sub = await sql.listen(channel, onMessage, () => {
        // postgres.js calls onlisten on the first LISTEN and after every reconnect.
        if (!first) onReconnect?.();
        first = false;
      });
      return () => sub.unlisten();
    },
  };
  return {
    db,
    kind: 'postgres',
    notifier,
    poolStats: () => ({ max: poolMax, ...pool.stats() }),
    statement: postgresStatement(pool.sql, logger),
    async withTryLock(key, fn) {
      const reserved = await sql.reserve();
      try {
        const [row] =
          await reserved`select pg_try_advisory_lock(${key.toString()}::bigint) as locked`;
        if (!row?.locked) return { locked: false };
        try {
          return { locked: true, value: await fn() };
        } finally {
          await reserved`select pg_advisory_unlock(${key.toString()}::bigint)`;
        }
      } finally {
        reserved.release();
      }
    },
    // /readyz: bounded, so a database that stopped answering reads as not ready, not a hang.
    async ping() {
      await withDeadline(sql`select 1`.execute(), deadlines.connectTimeoutMs);
    },
    onQuery,
    async close() {
      pool.stop();
      await sql.end({ timeout: 5 });
    },
  };
}

/**
 * Distinct statement texts run as named prepared statements; see `preparing`. A few dozen in
 * practice (one per query shape the clients send, plus the services' statements).
 */
export const MAX_PREPARED_STATEMENTS = 500;

/**
 * `sql` with drizzle's statements prepared. drizzle runs each statement unnamed (`prepare:
 * false`), so PostgreSQL parses and plans it every time (the nested tenants page is 2.5 KB of
 * lateral joins), and postgres.js adds a round trip to describe it first. Prepared, a statement
 * is parsed once per connection, its plan can be cached, and it costs one round trip.
 *
 * postgres.js keeps a connection's prepared statements until the connection closes (it recycles
 * each one after 30-60 min) and re-prepares one that a migration invalidated. Clients choose
 * the shape of GraphQL queries, so only the first `max` distinct texts are prepared, which caps
 * what each connection holds on the server; any other text runs unnamed, as drizzle would.
 *
 * Named statements live in the server session: this needs direct connections, as the portal
 * makes, or a pooler that keeps them (PgBouncer in session mode, or 1.21+ with
 * `max_prepared_statements` in transaction mode). Statements inside transactions stay unnamed.
 */
export function preparing(sql: postgres.Sql, max: number): postgres.Sql {
  const prepared = new Set<string>();
  const unsafe: postgres.Sql['unsafe'] = (query, parameters, options) => {
    const prepare = prepared.has(query) || (prepared.size < max && prepared.add(query).has(query));
    return sql.unsafe(query, parameters, { ...options, prepare });
  };
  return new Proxy(sql, {
    get: (target, key, receiver) =>
      key === 'unsafe' ? unsafe : Reflect.get(target, key, receiver),
  });
}

/** `Database.statement` on postgres.js: a named prepared statement, rows as value arrays. */
export function postgresStatement(sql: postgres.Sql, logger?: DrizzleLogger) {
  return (text: string): RawStatement =>
    (params) => {
      logger?.logQuery(text, params);
      return sql
        .unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })
        .values();
    };
}

/** `Database.statement` on PGlite. */
export function pgliteStatement(client: PGlite, logger?: DrizzleLogger) {
  return (text: string): RawStatement =>
    async (params) => {
      logger?.logQuery(text, params);
      return (await client.query<unknown[]>(text, params, { rowMode: 'array' })).rows;
    };
}

async function openPglite(
  dir: string,
  logger: DrizzleLogger,
  onQuery: Database['onQuery'],
): Promise<Database> {
  const inMemory = dir.startsWith('memory://');
  if (!inMemory) mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(inMemory ? dir : resolve(dir));
  const db = drizzlePglite({ client, relations, logger }) as unknown as Db;
  await migratePglite(drizzlePglite({ client, relations }), { migrationsFolder });

  // One process owns a PGlite database, so notifications stay in process.
  const channels = new Map<string, Set<(payload: string) => void>>();
  const notifier: Notifier = {
    async notify(channel, payload) {
      for (const fn of channels.get(channel) ?? []) queueMicrotask(() => fn(payload));
    },
    async listen(channel, onMessage) {
      const set = channels.get(channel) ?? new Set();
      channels.set(channel, set);
      set.add(onMessage);
      return async () => {
        set.delete(onMessage);
      };
    },
  };
  return {
    db,
    kind: 'pglite',
    notifier,
    // A single process owns the database: the lock is always ours.
    withTryLock: async (_key, fn) => ({ locked: true, value: await fn() }),
    async ping() {
      await client.query('select 1');
    },
    statement: pgliteStatement(client, logger),
    onQuery,
    close: () => client.close(),
  };
}
