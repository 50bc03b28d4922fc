import { createClient } from 'graphql-ws';
import { beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../src/lib/logger.ts';
import { useTestServer } from './helpers/app.ts';

// Client mistakes and limits over real HTTP: each is a clear error with its own code, never an
// internal error, and none is logged at error level (the server's log is captured here).

const logLines: { level: string; msg: string }[] = [];
const logger = createLogger('debug', (line) => {
  logLines.push(JSON.parse(line));
});

const JSON_ACCEPT = 'application/json';
const SPEC_ACCEPT = 'application/graphql-response+json';

interface Answer {
  status: number;
  body: any;
}

describe('GraphQL client mistakes and limits', () => {
  const server = useTestServer({ overrides: { logger } });
  const url = () => `${server().url}/graphql`;

  beforeEach(() => {
    logLines.length = 0;
  });

  const errorLogs = () => logLines.filter((l) => l.level === 'error');

  async function post(body: string, accept = JSON_ACCEPT, type = 'application/json') {
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': type, accept },
      body,
    });
    return { status: res.status, body: await res.json() } as Answer;
  }

  async function get(query: string): Promise<Answer> {
    const res = await fetch(`${url()}?${query}`, { headers: { accept: SPEC_ACCEPT } });
    return { status: res.status, body: await res.json() };
  }

  /** The one error of an answer, which is neither masked nor half a result. */
  function onlyError(answer: Answer) {
    expect(answer.status).toBeLessThan(500);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors).toHaveLength(1);
    const [error] = answer.body.errors;
    expect(error.message).not.toMatch(/Unexpected error/);
    expect(JSON.stringify(answer.body)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack
    expect(errorLogs()).toEqual([]);
    return error as { message: string; extensions?: { code?: string } };
  }

  describe('malformed JSON parameters of a GET or form POST', () => {
    it.each([
      ['variables', 'query=%7B__typename%7D&variables=%7B'],
      ['extensions', 'query=%7B__typename%7D&extensions=%7B'],
      ['variables', 'query=%7B__typename%7D&extensions=%7B%7D&variables=nope'],
    ])('GET with a malformed "%s": a 400 naming it', async (name, query) => {
      const answer = await get(query);
      expect(answer.status).toBe(400);
      const error = onlyError(answer);
      expect(error.message).toContain(`"${name}" parameter is not valid JSON`);
      expect(error.extensions?.code).toBe('BAD_REQUEST');
    });

    it.each(['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain'])(
      'a %s POST (a cross-site form needs no preflight): 415 naming the type',
      async (type) => {
        const answer = await post('query=%7B__typename%7D&variables=%7B', SPEC_ACCEPT, type);
        expect(answer.status).toBe(415);
        const error = onlyError(answer);
        expect(error.message).toContain(`Unsupported Content-Type "${type}"`);
        expect(error.extensions?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      },
    );

    it('well-formed GET parameters still work', async () => {
      const answer = await get('query=%7B__typename%7D&variables=%7B%7D&extensions=%7B%7D');
      expect(answer).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
    });
  });

  describe('nesting deeper than the parser can take', () => {
    const deepList = `{ tenant(id: ${'['.repeat(2000)}"x"${']'.repeat(2000)}) { __typename } }`;
    const deepObject = `{ tenant(id: ${'{a:'.repeat(600)}1${'}'.repeat(600)}) { __typename } }`;
    const deepSelection = `{ ${'me { '.repeat(150)}id${' }'.repeat(150)} }`;

    it.each([
      ['a list literal 2,000 deep (4 KB)', deepList],
      ['an object literal 600 deep', deepObject],
      ['a selection set 150 deep', deepSelection],
    ])('%s: refused as too deep on both doors', async (_name, query) => {
      expect(query.length).toBeLessThan(5000);
      const body = JSON.stringify({ query });
      const spec = await post(body, SPEC_ACCEPT); // Yoga's door
      const plain = await post(body, JSON_ACCEPT); // the direct JSON POST door
      expect(spec.status).toBe(400);
      const error = onlyError(spec);
      expect(error.message).toBe(
        'Document nested too deep: at most 100 levels of {, [ and ( are allowed.',
      );
      expect(error.extensions?.code).toBe('NESTING_TOO_DEEP');
      // application/json keeps 200 for a request error (the spec's legacy rule), same body.
      expect(plain).toEqual({ status: 200, body: spec.body });
    });

    it('brackets inside strings and comments do not count', async () => {
      const inString = JSON.stringify('['.repeat(3000));
      const query = `# ${'{'.repeat(500)}\n{ tenant(id: ${inString}) { __typename } }`;
      const answer = await post(JSON.stringify({ query }), SPEC_ACCEPT);
      // Past the parser: the tenant lookup needs a login.
      expect(answer.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('deep JSON variables: a clear coercion error naming the variable', async () => {
      const depth = 20_000;
      const v = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      const body = `{"query":"query($v: ID!) { tenant(id: $v) { __typename } }","variables":{"v":${v}}}`;
      const spec = await post(body, SPEC_ACCEPT);
      expect(spec.status).toBe(400);
      const error = onlyError(spec);
      expect(error.message).toMatch(/^Variable "\$v" got invalid value \[\[\[/);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(await post(body, JSON_ACCEPT)).toEqual({ status: 200, body: spec.body });
    });

    it('deep JSON in unused variables and in extensions is harmless', async () => {
      const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
      const body = `{"query":"{ __typename }","variables":{"v":${deep}},"extensions":{"x":${deep}}}`;
      for (const accept of [SPEC_ACCEPT, JSON_ACCEPT]) {
        expect(await post(body, accept)).toEqual({
          status: 200,
          body: { data: { __typename: 'Query' } },
        });
      }
      expect(errorLogs()).toEqual([]);
    });

    it('over graphql-ws too: the same error, the socket stays open', async () => {
      const client = createClient({
        url: url().replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
      });
      try {
        const run = (query: string) =>
          new Promise<any>((resolve) => {
            let result: any;
            client.subscribe(
              { query },
              { next: (r) => (result = r), error: resolve, complete: () => resolve(result) },
            );
          });
        const refused = await run(deepList);
        expect(refused[0].message).toMatch(/nested too deep/);
        expect(refused[0].extensions.code).toBe('NESTING_TOO_DEEP');
        expect(await run('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
      } finally {
        await client.dispose();
      }
      expect(errorLogs()).toEqual([]);
    });
  });

  describe('armor limits: each its own message and code', () => {
    const fragments = [
      'fragment F0 on Query { me { id email role createdAt } }',
      ...[1, 2, 3].map((n) => `fragment F${n} on Query { ${`...F${n - 1} `.repeat(10)} }`),
    ].join('\n');

    it.each([
      [
        'tokens',
        `{ ${'__typename '.repeat(2100)} }`,
        'Token limit of 2000 exceeded.',
        'TOKEN_LIMIT_EXCEEDED',
      ],
      [
        'depth',
        `{ ${'tenants { edges { node { '.repeat(5)}id${' } } }'.repeat(5)} }`,
        'Query depth limit of 12 exceeded, found 16.',
        'DEPTH_LIMIT_EXCEEDED',
      ],
      [
        'aliases',
        `{ ${Array.from({ length: 25 }, (_, i) => `a${i}: me { id }`).join(' ')} }`,
        'Aliases limit of 20 exceeded, found 25.',
        'ALIAS_LIMIT_EXCEEDED',
      ],
      [
        'cost',
        `{ ...F3 }\n${fragments}`,
        /^Query Cost limit of 20000 exceeded, found [\d.]+\.$/,
        'COST_LIMIT_EXCEEDED',
      ],
      [
        'directives',
        `{ __typename ${'@include(if: true) '.repeat(60)} }`,
        'Directives limit of 50 exceeded, found 60.',
        'DIRECTIVE_LIMIT_EXCEEDED',
      ],
    ])('%s', async (_name, query, message, code) => {
      const body = JSON.stringify({ query });
      const spec = await post(body, SPEC_ACCEPT);
      const plain = await post(body, JSON_ACCEPT);
      expect(spec.status).toBe(400);
      const error = onlyError(spec);
      if (typeof message === 'string') expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
      expect(error.extensions?.code).toBe(code);
      expect(plain).toEqual({ status: 200, body: spec.body });
    });
  });
});
