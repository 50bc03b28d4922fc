import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { apiKeys, tenants, users } from '../src/db/schema.ts';
import { createLogger } from '../src/lib/logger.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import {
  closeFuzzAgent,
  type FuzzReply,
  type FuzzRequest,
  type Random,
  seededRandom,
  send,
  sendRaw,
} from './helpers/fuzz.ts';
import { documentedOperations, type Operation, validBody } from './helpers/rest-matrix.ts';

/**
 * Generated client mistakes over real HTTP and graphql-ws, from a fixed seed (FUZZ_SEED replays
 * another): every one gets a clear 4xx or a GraphQL error that says what is wrong; none is a
 * 5xx, a masked internal error, an error-level log line or a stack trace, and none changes data.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const HTTP_REQUESTS = 10_000;
const WS_SESSIONS = 300;
const CONCURRENCY = 8;

const logLines: string[] = [];
const server = useTestServer({
  overrides: { logger: createLogger('debug', (line) => void logLines.push(line)) },
});

let org: TestOrg;
let tenantId: string;
let keyId: string;
let operations: Operation[];

async function snapshot() {
  const db = server().database.db;
  const rows = async (table: typeof tenants | typeof apiKeys | typeof users) =>
    JSON.stringify(
      (await db.select().from(table)).map((r) => JSON.stringify(r, Object.keys(r).sort())).sort(),
    );
  // lastUsedAt moves on valid verifies only; none are sent, but leave it out to say so.
  return { tenants: await rows(tenants), keys: await rows(apiKeys), users: await rows(users) };
}
let before: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  org = await signupOrg(server(), 'Fuzz Org');
  tenantId = (await createTenant(server(), org.token, { displayName: 'Fuzz Target' })).id;
  keyId = (await createApiKey(server(), org.token, tenantId)).id;
  operations = await documentedOperations(server().url);
  before = await snapshot();
});
afterAll(() => closeFuzzAgent());

const VALID_DOCUMENTS = [
  '{ tenants(first: 5) { totalCount edges { cursor node { id displayName status } } } }',
  'query($id: ID!) { tenant(id: $id) { __typename ... on Tenant { id apiKeys { id prefix } } } }',
  'mutation($n: String!, $e: Environment!) { createTenant(displayName: $n, environment: $e) { __typename } }',
  'mutation($t: ID!, $n: String!) { createApiKey(tenantId: $t, displayName: $n) { __typename } }',
  '{ organisation { name plan users { email role } } usageSyncStatus { lastSuccessAt } }',
  'mutation($id: ID!, $g: Int!) { rollApiKey(id: $id, gracePeriodSeconds: $g) { __typename } }',
];

/** Variables that never fit the documents above: wrong types, nulls for non-nulls, objects. */
const WRONG_VALUES: unknown[] = [
  null,
  42,
  -1.5,
  true,
  [],
  [1, 2],
  {},
  { a: { b: 1 } },
  '',
  'x'.repeat(5000),
  1e308,
  Number.MAX_SAFE_INTEGER,
];

const nest = (open: string, close: string, depth: number, inner = '1') =>
  open.repeat(depth) + inner + close.repeat(depth);

function mutateDocument(rnd: Random, doc: string): string {
  const at = rnd.int(doc.length);
  switch (rnd.int(5)) {
    case 0:
      return doc.slice(0, at);
    case 1:
      return (
        doc.slice(0, at) +
        rnd.pick(['{', '}', '(', ')', '$', '@', '...', '"', '#', ':', '!']) +
        doc.slice(at)
      );
    case 2:
      return doc.slice(0, at) + doc.slice(at + 1 + rnd.int(8));
    case 3:
      return doc.replace(/[a-z]+/, rnd.junk(6));
    default:
      return rnd.junk(1 + rnd.int(200));
  }
}

const json = (value: unknown) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});
const withToken = (r: FuzzRequest, token: string): FuzzRequest => ({
  ...r,
  headers: { ...r.headers, authorization: `Bearer ${token}` },
});

function badJwt(rnd: Random): string {
  const [h, p, s] = org.token.split('.') as [string, string, string];
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return rnd.pick([
    `${h}.${p}.${s.slice(0, -3)}abc`,
    `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
    `${b64({ alg: 'HS256' })}.${b64({ sub: 'x', exp: 1 })}.${s}`,
    `${h}.${p}`,
    rnd.headerJunk(40),
    'a'.repeat(4000),
    `${h}.${Buffer.from('{not json').toString('base64url')}.${s}`,
    `${b64({ alg: 'RS256' })}.${p}.${s}`,
    '',
  ]);
}

function pathJunk(rnd: Random): string {
  return rnd.pick([
    'nope',
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    '%E0%A4%A',
    'x'.repeat(3000),
    encodeURIComponent(rnd.junk(12)),
    'xs_fuzz_aaaaaaaa',
    '00000000-0000-0000-0000-000000000000',
    tenantId.toUpperCase(),
    `${tenantId}%20`,
  ]);
}

/** One wrong body for a route: not JSON, the wrong JSON type, or one field of the wrong type. */
function wrongBody(rnd: Random, op: Operation): string | Buffer {
  const valid = validBody(op) ?? {};
  const fields = Object.keys(op.body?.properties ?? valid);
  switch (rnd.int(6)) {
    case 0:
      return rnd.pick(['', '{', '{"a":', 'null', '[]', '"text"', '12', 'tru', '{}}']);
    case 1:
      return JSON.stringify(rnd.pick([[valid], 7, 'body', null, true]));
    case 2:
      return Buffer.concat([
        Buffer.from('{"display_name":"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}'),
      ]);
    case 3:
      return JSON.stringify(nest('[', ']', 5000));
    default: {
      if (fields.length === 0) return JSON.stringify({ unexpected: rnd.junk(5) });
      const field = rnd.pick(fields);
      // Never a value of the right type: a valid change must not slip in (the valid bodies
      // carry the owner's real password).
      // (null only where the field is required: an optional field's null is its default.)
      const required = (op.body as { required?: string[] } | undefined)?.required ?? [];
      const wrong = rnd.pick([
        ...(required.includes(field) ? [null] : []),
        12,
        [],
        {},
        true,
        [rnd.junk(3)],
        { value: rnd.junk(3) },
      ]);
      return JSON.stringify({ ...valid, [field]: wrong });
    }
  }
}

type Generator = (rnd: Random) => FuzzRequest | { raw: string | Buffer; kind: string };

const GENERATORS: Record<string, Generator> = {
  'graphql syntax': (rnd) => ({
    kind: 'graphql syntax',
    method: 'POST',
    path: '/graphql',
    ...json({ query: mutateDocument(rnd, rnd.pick(VALID_DOCUMENTS)) }),
    headers: {
      'content-type': 'application/json',
      accept: rnd.pick(['application/json', 'application/graphql-response+json', '*/*']),
    },
  }),
  'graphql get junk': (rnd) => {
    const params = new URLSearchParams();
    params.set(
      'query',
      rnd.chance(0.5) ? rnd.pick(VALID_DOCUMENTS) : mutateDocument(rnd, '{ me { id } }'),
    );
    const junkJson = () => rnd.pick(['{', '[1]', '"x"', 'null', '{"a":', '12', rnd.junk(10)]);
    if (rnd.chance(0.6)) params.set('variables', junkJson());
    if (rnd.chance(0.4)) params.set('extensions', junkJson());
    if (rnd.chance(0.3)) params.set('operationName', rnd.junk(8));
    return { kind: 'graphql get junk', method: 'GET', path: `/graphql?${params}` };
  },
  'graphql wrong variable types': (rnd) =>
    withToken(
      {
        kind: 'graphql wrong variable types',
        method: 'POST',
        path: '/graphql',
        ...json({
          query: rnd.pick(VALID_DOCUMENTS.filter((d) => d.includes('$'))),
          variables: rnd.chance(0.2)
            ? rnd.pick([[], 'x', 3])
            : {
                id: rnd.pick(WRONG_VALUES),
                n: rnd.pick(WRONG_VALUES),
                e: rnd.pick(['staging', 'PROD', 3, null]),
                t: rnd.pick(WRONG_VALUES),
                g: rnd.pick(['1', 1.5, -1, 1e12, null]),
              },
        }),
      },
      org.token,
    ),
  'graphql deep and wide': (rnd) => {
    const depth = 20 + rnd.int(3000);
    const query = rnd.pick([
      `{ tenant(id: ${nest('[', ']', depth, '"x"')}) { __typename } }`,
      `{ tenants(search: ${nest('{a:', '}', Math.min(depth, 1500))}) { totalCount } }`,
      `{ ${nest('tenants { edges { node { ', ' } } }', Math.min(depth, 40), 'id')} }`,
      `{ ${Array.from({ length: 50 + rnd.int(600) }, (_, i) => `a${i}: me { id }`).join(' ')} }`,
      `{ me { ${'id '.repeat(1 + rnd.int(3000))} } }`,
    ]);
    const variables = rnd.chance(0.3) ? { id: JSON.parse(nest('[', ']', depth, '"x"')) } : {};
    return withToken(
      {
        kind: 'graphql deep and wide',
        method: 'POST',
        path: '/graphql',
        ...json({ query, variables }),
      },
      org.token,
    );
  },
  'huge strings and headers': (rnd) => {
    const size = rnd.pick([20_000, 200_000, 1_200_000]);
    if (rnd.chance(0.4)) {
      return {
        kind: 'huge strings and headers',
        method: 'GET',
        path: '/graphql?query=%7B__typename%7D',
        headers: { 'x-junk': 'h'.repeat(rnd.pick([9_000, 20_000, 70_000])) },
      };
    }
    return withToken(
      {
        kind: 'huge strings and headers',
        method: 'POST',
        path: rnd.pick(['/graphql', '/tenants']),
        ...json(
          rnd.chance(0.5)
            ? { query: VALID_DOCUMENTS[2], variables: { n: 's'.repeat(size), e: 'prod' } }
            : { display_name: 's'.repeat(size), environment: 'prod' },
        ),
      },
      org.token,
    );
  },
  'invalid utf-8': (rnd) =>
    withToken(
      {
        kind: 'invalid utf-8',
        method: 'POST',
        path: rnd.pick(['/graphql', '/tenants', '/auth/login']),
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat([
          Buffer.from(rnd.pick(['{"query":"{ me { id ', '{"display_name":"', '{"email":"'])),
          Buffer.from(
            rnd.pick([
              [0xff, 0xfe],
              [0xc3, 0x28],
              [0xed, 0xa0, 0x80],
              [0xf8, 0x88, 0x80, 0x80],
            ]),
          ),
          Buffer.from('"}'),
        ]),
      },
      org.token,
    ),
  'odd methods': (rnd) => {
    const method = rnd.pick([
      'CONNECT',
      'TRACE',
      'FOO',
      'PROPFIND',
      'get',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'HEAD',
      'PUT',
    ]);
    const path = rnd.pick(['/graphql', '/tenants', '/auth/verify', '/healthz', '/ui/', '/nope']);
    const target = method === 'CONNECT' ? '127.0.0.1:443' : path;
    return {
      kind: 'odd methods',
      raw: `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    };
  },
  'bad jwt': (rnd) => ({
    kind: 'bad jwt',
    method: rnd.pick(['GET', 'POST']),
    path: rnd.pick(['/tenants', '/organisation', '/graphql']),
    headers: {
      authorization: rnd.pick(['Bearer ', 'bearer ', 'Basic ', 'Token ', '']) + badJwt(rnd),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ query: '{ me { id } }' }),
  }),
  'rest wrong bodies': (rnd) => {
    const op = rnd.pick(operations);
    const path = op.path
      .replace('{id}', rnd.chance(0.7) ? pathJunk(rnd) : tenantId)
      .replace('{key_id}', rnd.chance(0.7) ? pathJunk(rnd) : keyId);
    const hasBody = op.body !== undefined;
    // Without a body, only junk IDs: a valid DELETE would be a valid request.
    const safePath = hasBody ? path : op.path.replace(/\{[a-z_]+\}/g, () => pathJunk(rnd));
    const request: FuzzRequest = {
      kind: 'rest wrong bodies',
      method: op.method,
      path: safePath,
      headers: {
        'content-type': rnd.pick([
          'application/json',
          'text/plain',
          'application/json; charset=latin1',
        ]),
      },
      ...(hasBody ? { body: wrongBody(rnd, op) } : {}),
    };
    return op.secured && rnd.chance(0.85) ? withToken(request, org.token) : request;
  },
  'verify junk': (rnd) => {
    const key = rnd.pick([
      `xsk_${rnd.headerJunk(20)}`,
      `xsk_${'a'.repeat(40)}`,
      rnd.headerJunk(30),
      'x'.repeat(5000),
      `xsk_live_${Buffer.from(rnd.junk(24)).toString('base64url')}`,
    ]);
    const authorization = rnd.pick([
      `Bearer ${key}`,
      `Basic ${Buffer.from(`${tenantId}:${key}`).toString('base64')}`,
      `Basic ${rnd.headerJunk(12)}`,
      'Basic',
      `Bearer`,
      key,
    ]);
    const scope = rnd.pick(['metrics:write', 'logs:write', 'nope', '', rnd.headerJunk(5)]);
    return {
      kind: 'verify junk',
      method: rnd.pick(['GET', 'GET', 'POST', 'HEAD']),
      path: rnd.pick([
        `/auth/verify?scope=${encodeURIComponent(scope)}`,
        `/auth/verify/api/v1/push?scope=${encodeURIComponent(scope)}`,
        '/auth/verify',
      ]),
      headers: {
        authorization,
        'x-required-scope': scope,
        'x-scope-orgid': rnd.chance(0.5) ? tenantId : rnd.headerJunk(6),
      },
    };
  },
};

interface Outcome {
  kind: string;
  sent: string;
  reply: FuzzReply;
}

const STACK_TRACE = /\n\s+at [^\n]+\(|\bat [\w.]+ \(\/|node_modules\/|\.ts:\d+:\d+/;

/** What a reply tells a client: a REST/verify error code, GraphQL error messages, or nothing. */
function explanation(reply: FuzzReply): string | undefined {
  let body: any;
  try {
    body = JSON.parse(reply.text);
  } catch {
    // The UI's static door answers in plain text, as web servers do.
    const plain = String(reply.headers['content-type'] ?? '').startsWith('text/plain');
    return plain && reply.text.trim() ? reply.text.trim() : undefined;
  }
  if (typeof body?.error === 'string' && typeof body.message === 'string') return body.message;
  const messages = (body?.errors ?? []).map((e: { message?: string }) => e.message).filter(Boolean);
  if (messages.length > 0) return messages.join('; ');
  // A typed GraphQL error result (ValidationError, NotFoundError...) in data.
  const typed = Object.values(body?.data ?? {}).find((v: any) => typeof v?.message === 'string');
  return (typed as { message: string } | undefined)?.message;
}

describe(`fuzz (seed ${SEED})`, () => {
  const outcomes: Outcome[] = [];

  it(`answers ${HTTP_REQUESTS} generated HTTP mistakes with clear 4xx and no internal error`, async () => {
    const rnd = seededRandom(SEED);
    const kinds = Object.keys(GENERATORS);
    const plan = Array.from({ length: HTTP_REQUESTS }, (_, i) =>
      GENERATORS[kinds[i % kinds.length]!]!(rnd),
    );
    let next = 0;
    const worker = async () => {
      while (next < plan.length) {
        const item = plan[next++]!;
        const reply =
          'raw' in item ? await sendRaw(server().url, item.raw) : await send(server().url, item);
        const sent =
          'raw' in item
            ? String(item.raw).slice(0, 120)
            : `${item.method} ${item.path.slice(0, 120)} ${String(item.body ?? '').slice(0, 120)}`;
        outcomes.push({ kind: item.kind, sent, reply });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(outcomes).toHaveLength(HTTP_REQUESTS);

    const problems = outcomes.filter(({ reply }) => {
      if (reply.status >= 500 || reply.status === 0) return true;
      if (reply.text.includes('Unexpected error')) return true;
      return STACK_TRACE.test(reply.text);
    });
    expect(
      problems
        .slice(0, 5)
        .map((p) => `${p.kind}: ${p.sent} -> ${p.reply.status} ${p.reply.text.slice(0, 300)}`),
    ).toEqual([]);

    // Every mistake is explained (HEAD and 405/431 from the HTTP layer carry no body to read).
    const unexplained = outcomes.filter(
      ({ reply, sent }) =>
        !sent.startsWith('HEAD') &&
        reply.status !== 204 &&
        reply.status !== 200 &&
        explanation(reply) === undefined &&
        !(reply.status === 431 || reply.status === 413),
    );
    expect(
      unexplained
        .slice(0, 5)
        .map((p) => `${p.kind}: ${p.sent} -> ${p.reply.status} ${p.reply.text.slice(0, 200)}`),
    ).toEqual([]);

    // Each class meets its own errors: report them, and make sure no class is answered only
    // with one catch-all message.
    const byKind = new Map<string, Map<string, number>>();
    for (const { kind, reply } of outcomes) {
      const key = `${reply.status} ${(explanation(reply) ?? '').slice(0, 60)}`;
      const counts = byKind.get(kind) ?? new Map<string, number>();
      counts.set(key, (counts.get(key) ?? 0) + 1);
      byKind.set(kind, counts);
    }
    if (process.env.FUZZ_REPORT) {
      for (const [kind, counts] of byKind) console.log(kind, Object.fromEntries(counts));
    }
    for (const [kind, counts] of byKind) {
      expect(counts.size, `${kind}: ${[...counts.keys()].join(' | ')}`).toBeGreaterThan(1);
    }
  }, 300_000);

  it(`refuses ${WS_SESSIONS} generated graphql-ws mistakes with protocol close codes`, async () => {
    const rnd = seededRandom(SEED + 1);
    const wsUrl = `${server().url.replace('http', 'ws')}/graphql`;
    const MESSAGES = [
      () => 'not json',
      () =>
        JSON.stringify({
          type: 'subscribe',
          id: '1',
          payload: { query: 'subscription { orgUsageUpdated { tenantCount } }' },
        }),
      () =>
        JSON.stringify({
          type: 'connection_init',
          payload: { authorization: `Bearer ${badJwt(rnd)}` },
        }),
      () => JSON.stringify({ type: 'connection_init', payload: rnd.pick([null, 3, 'x', []]) }),
      () => JSON.stringify({ type: rnd.junk(6) }),
      () => JSON.stringify({ type: 'subscribe', id: rnd.pick([null, 3, '']), payload: {} }),
      () => JSON.stringify(JSON.parse(nest('[', ']', 2000))),
      () =>
        JSON.stringify({ type: 'connection_init' }) + JSON.stringify({ type: 'connection_init' }),
    ];
    const closes = new Map<number, number>();
    const NO_SUBPROTOCOL = -1;
    const session = () =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, rnd.chance(0.1) ? 'graphql-junk' : 'graphql-transport-ws');
        ws.on('open', () => {
          const messages = 1 + rnd.int(3);
          for (let m = 0; m < messages; m++) ws.send(rnd.pick(MESSAGES)());
          // A session that survives its junk (e.g. an init that was fine) is ended by us.
          setTimeout(() => ws.close(1000), 150).unref();
        });
        ws.on('close', (c) => resolve(c));
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        // The server answers an unknown subprotocol with none, which the client refuses.
        ws.on('error', (err) =>
          err.message === 'Server sent no subprotocol' ? resolve(NO_SUBPROTOCOL) : reject(err),
        );
      });
    for (let batch = 0; batch < WS_SESSIONS; batch += 20) {
      for (const code of await Promise.all(Array.from({ length: 20 }, session))) {
        closes.set(code, (closes.get(code) ?? 0) + 1);
      }
    }
    // 1011 is "internal error", 1006 an abrupt end: neither is an answer to a client mistake.
    expect(
      [...closes.keys()].filter((c) => c === 1011 || c === 1006 || (c >= 500 && c < 1000)),
    ).toEqual([]);
    expect(closes.size).toBeGreaterThan(1);
  }, 300_000);

  it('logs no error, stays healthy and leaves the data as it was', async () => {
    const errors = logLines.filter((l) => JSON.parse(l).level === 'error');
    expect(errors.slice(0, 3)).toEqual([]);
    expect(logLines.join('\n')).not.toContain(org.token);

    const health = await send(server().url, { kind: 'check', method: 'GET', path: '/healthz' });
    expect(health.status).toBe(200);
    const me = await send(
      server().url,
      withToken(
        { kind: 'check', method: 'POST', path: '/graphql', ...json({ query: '{ me { email } }' }) },
        org.token,
      ),
    );
    expect(JSON.parse(me.text).data.me.email).toBe(org.email);
    expect(await snapshot()).toEqual(before);
  });
});
