import { afterAll, beforeAll } from 'vitest';
import { type App, type AppOverrides, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestServer {
  app: App;
  url: string;
  database: Database;
  testDatabase: TestDatabase;
  /** POST /graphql; returns the parsed body and the HTTP status. */
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GqlResult<T>>;
  stop(): Promise<void>;
}

export interface GqlResult<T> {
  status: number;
  data: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    // Cheaper scrypt (2^12 rather than 2^17): every signup and login in the suite hashes, and
    // the cost factor is a parameter, not the code under test (auth.test.ts pins the default).
    // Production refuses it, so a production-mode test keeps the default.
    ...(extra.NODE_ENV === 'production' ? {} : { PASSWORD_HASH_LOG_N: '12' }),
    ...extra,
  };
  return env;
}

/** Starts the real server on an ephemeral port over this file's own database. */
export async function startTestServer(
  options: {
    /** Extra environment; a function is read at start (e.g. a fixture's URL known only then). */
    env?: Record<string, string> | (() => Record<string, string>);
    overrides?: AppOverrides;
    testDatabase?: TestDatabase;
  } = {},
): Promise<TestServer> {
  const testDatabase = options.testDatabase ?? (await createTestDatabase());
  const database = await testDatabase.open();
  const config = loadConfig(
    testEnv(typeof options.env === 'function' ? options.env() : options.env),
  );
  const app = await createApp(config, {
    logger: createLogger('silent'),
    ...options.overrides,
    database,
  });
  const { url } = await app.start();
  return {
    app,
    url,
    database,
    testDatabase,
    gql: (query, variables, token) => gqlAt(url, query, variables, token),
    async stop() {
      await app.stop();
      await database.close();
      if (!options.testDatabase) await testDatabase.drop();
    },
  };
}

/** POST /graphql on any portal (in process or a spawned one); body and HTTP status. */
export async function gqlAt<T = any>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GqlResult<T>> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: any; errors?: any[] };
  return { status: res.status, data: body.data, errors: body.errors };
}

/** beforeAll/afterAll wiring: one server per test file. */
export function useTestServer(
  options: Parameters<typeof startTestServer>[0] = {},
): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('test server not started');
    return server;
  };
}
