import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const postgresUrl = process.env.TEST_DATABASE_URL;

export default defineConfig({
  resolve: {
    // One graphql module instance, or schema objects come "from another module or realm".
    alias: { graphql: require.resolve('graphql/index.js') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One process per worker and project runs many files: the server's modules (graphql, Pothos
    // schema, drizzle, PGlite) load once per worker instead of once per file. Files still share no
    // state: each builds its own app and database.
    isolate: false,
    // Most test time is waiting (child processes, scrapes, sockets): more files than cores.
    maxWorkers: 3,
    // Every file runs on embedded PGlite, and again on PostgreSQL when TEST_DATABASE_URL is set.
    projects: [
      { extends: true as const, test: { name: 'pglite', env: { TEST_DATABASE_URL: '' } } },
      ...(postgresUrl
        ? [
            {
              extends: true as const,
              test: { name: 'postgres', env: { TEST_DATABASE_URL: postgresUrl } },
            },
          ]
        : []),
    ],
  },
});
