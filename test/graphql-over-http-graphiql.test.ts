import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { testEnv, useTestServer } from './helpers/app.ts';

// GraphiQL: on by default in development (and tests), off by default in production; GRAPHIQL
// decides either way.

const production = (extra: Record<string, string> = {}) =>
  testEnv({ NODE_ENV: 'production', ...extra });

describe('GRAPHIQL default', () => {
  it.each([
    ['production', production(), false],
    ['production with GRAPHIQL=true', production({ GRAPHIQL: 'true' }), true],
    ['production with GRAPHIQL=1', production({ GRAPHIQL: '1' }), true],
    ['development', testEnv({ NODE_ENV: 'development' }), true],
    [
      'development with GRAPHIQL=false',
      testEnv({ NODE_ENV: 'development', GRAPHIQL: 'false' }),
      false,
    ],
    ['test', testEnv(), true],
  ])('%s: %s', (_name, env, on) => {
    expect(loadConfig(env).graphiql).toBe(on);
  });

  it('refuses a value that is not a boolean, naming the variable', () => {
    expect(() => loadConfig(production({ GRAPHIQL: 'maybe' }))).toThrow(/GRAPHIQL/);
  });
});

const openGraphiQL = (url: string) =>
  fetch(`${url}/graphql`, { headers: { accept: 'text/html' } }).then(async (res) => ({
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text: await res.text(),
  }));

describe('GraphiQL over HTTP in production', () => {
  const off = useTestServer({ env: { NODE_ENV: 'production' } });
  const on = useTestServer({ env: { NODE_ENV: 'production', GRAPHIQL: 'true' } });

  it('is not served by default', async () => {
    const page = await openGraphiQL(off().url);
    expect(page.type).not.toMatch(/text\/html/);
    expect(page.text).not.toMatch(/graphiql/i);
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(page.status).toBeLessThan(500);
    // The API itself is unchanged.
    const res = await fetch(`${off().url}/graphql?query=%7B__typename%7D`);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('is served with GRAPHIQL=true', async () => {
    const page = await openGraphiQL(on().url);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toMatch(/graphiql/i);
  });
});
