import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { testEnv, useTestServer } from './helpers/app.ts';

// CORS over real HTTP: off unless CORS_ORIGINS lists the origin, for GraphQL (both doors: the
// direct JSON POST one and Yoga's); REST answers no CORS at all.

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example';

interface Seen {
  status: number;
  headers: Headers;
  text: string;
}

async function send(url: string, init: RequestInit): Promise<Seen> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const preflight = (origin: string, method = 'POST') => ({
  method: 'OPTIONS',
  headers: {
    origin,
    'access-control-request-method': method,
    'access-control-request-headers': 'authorization, content-type',
  },
});

const graphqlPost = (origin: string, accept = 'application/json') => ({
  method: 'POST',
  headers: { origin, 'content-type': 'application/json', accept },
  body: JSON.stringify({ query: '{ __typename }' }),
});

const corsHeaders = (seen: Seen) =>
  [...seen.headers.keys()].filter((name) => name.startsWith('access-control-'));

describe('CORS off by default', () => {
  const server = useTestServer();
  const graphql = () => `${server().url}/graphql`;

  it.each<[string, string, () => RequestInit]>([
    ['a JSON POST', '', () => graphqlPost(OTHER)],
    [
      'a JSON POST asking for graphql-response+json',
      '',
      () => graphqlPost(OTHER, 'application/graphql-response+json'),
    ],
    ['a GET', '?query=%7B__typename%7D', () => ({ headers: { origin: OTHER } })],
  ])('%s from any origin is answered without CORS headers', async (_name, search, init) => {
    const seen = await send(`${graphql()}${search}`, init());
    expect(seen.status).toBe(200);
    expect(JSON.parse(seen.text)).toEqual({ data: { __typename: 'Query' } });
    expect(corsHeaders(seen)).toEqual([]);
  });

  it('a preflight from any origin is refused, with no CORS headers', async () => {
    for (const origin of [OTHER, ALLOWED, 'null']) {
      const seen = await send(graphql(), preflight(origin));
      expect(seen.status).toBe(403);
      expect(corsHeaders(seen)).toEqual([]);
      expect(JSON.parse(seen.text).errors[0].extensions.code).toBe('CORS_ORIGIN_NOT_ALLOWED');
    }
  });
});

describe('CORS_ORIGINS allow-list', () => {
  const server = useTestServer({ env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } });
  const graphql = () => `${server().url}/graphql`;

  it('answers an allowed origin’s preflight: that origin, the methods and headers, no credentials', async () => {
    const seen = await send(graphql(), preflight(ALLOWED));
    expect(seen.status).toBe(204);
    expect(seen.text).toBe('');
    expect(seen.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(seen.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(seen.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, accept',
    );
    expect(seen.headers.get('access-control-max-age')).toBe('600');
    expect(seen.headers.get('access-control-allow-credentials')).toBeNull();
    expect(seen.headers.get('vary')).toMatch(/Origin/);
    const second = await send(graphql(), preflight('http://localhost:5173', 'GET'));
    expect(second.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('refuses any other origin’s preflight, including look-alikes and "null"', async () => {
    for (const origin of [
      OTHER,
      'null',
      'https://app.example.com.evil.example',
      'http://app.example.com',
      'https://APP.example.com',
    ]) {
      const seen = await send(graphql(), preflight(origin));
      expect(seen.status).toBe(403);
      expect(corsHeaders(seen)).toEqual([]);
      expect(seen.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it.each([
    ['the direct JSON POST door', 'application/json'],
    ["Yoga's door", 'application/graphql-response+json'],
  ])(
    '%s: the allowed origin may read the answer, others get it without CORS headers',
    async (_name, accept) => {
      const allowed = await send(graphql(), graphqlPost(ALLOWED, accept));
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      expect(allowed.headers.get('vary')).toMatch(/Origin/);
      const other = await send(graphql(), graphqlPost(OTHER, accept));
      expect(other.status).toBe(200);
      expect(corsHeaders(other)).toEqual([]);
      expect(other.headers.get('vary')).toMatch(/Origin/);
    },
  );

  it('a request without Origin (curl, the ingestion proxy, same-origin pages) is unchanged', async () => {
    const seen = await send(graphql(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(seen.status).toBe(200);
    expect(corsHeaders(seen)).toEqual([]);
  });

  it('REST answers no CORS, whatever the origin (scripts and same-origin pages only)', async () => {
    for (const origin of [ALLOWED, OTHER]) {
      const get = await send(`${server().url}/tenants`, { headers: { origin } });
      expect(get.status).toBe(401);
      expect(corsHeaders(get)).toEqual([]);
      const pre = await send(`${server().url}/auth/login`, preflight(origin));
      expect(pre.status).toBe(405);
      expect(corsHeaders(pre)).toEqual([]);
    }
  });
});

describe('CORS_ORIGINS in the configuration', () => {
  it('takes exact origins, comma-separated', () => {
    expect(loadConfig(testEnv()).corsOrigins).toEqual([]);
    expect(
      loadConfig(testEnv({ CORS_ORIGINS: ' https://a.example.com ,http://localhost:5173,' }))
        .corsOrigins,
    ).toEqual(['https://a.example.com', 'http://localhost:5173']);
  });

  it.each([
    '*',
    'null',
    'https://a.example.com/',
    'https://a.example.com/app',
    'a.example.com',
    'HTTPS://A.example.com',
    'https://a.example.com:443',
    'ftp://a.example.com',
  ])('refuses %j, naming the variable and the entry', (entry) => {
    const load = () => loadConfig(testEnv({ CORS_ORIGINS: `https://ok.example.com,${entry}` }));
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/CORS_ORIGINS: .* is not an origin: write scheme:\/\/host\[:port\]/);
  });
});
