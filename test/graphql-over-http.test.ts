import { type Audit, serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/client.ts';
import { createLogger } from '../src/lib/logger.ts';
import { testEnv } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { seededRandom } from './helpers/fuzz.ts';

// graphql-http's audits of the GraphQL-over-HTTP spec, against the real server. The answer to a
// request must not depend on what came before (Yoga's parse and validation caches are shared by
// the direct JSON POST door and Yoga's own), so each order runs on a fresh portal (fresh caches).

/** The spec's documents that fail, and one from the field; sent first to fill the caches. */
const BAD_DOCUMENTS = ['{', '{ 8f31403dfe404bccbb0e835f2629c6a7 }', '{ q1 q2 '];

/** A fixed seed gives the same shuffle on every run. */
function seededShuffle<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Sends every body as a stream (chunked, no Content-Length): the direct door only takes a
 * declared length, so each request goes through Yoga's fetch layer, otherwise unchanged.
 */
const viaYogaFetch: typeof fetch = (input, init) => {
  if (init?.body == null) return fetch(input, init);
  const bytes = new TextEncoder().encode(String(init.body));
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return fetch(input, { ...init, body, duplex: 'half' } as RequestInit);
};

const doors = [
  ['as sent (JSON POSTs answered by the direct door)', fetch],
  ['every request through Yoga', viaYogaFetch],
] as const;

const orders: [string, (audits: Audit[]) => Audit[]][] = [
  ['forward', (a) => a],
  ['reversed', (a) => [...a].reverse()],
  ['shuffled (seed 10)', (a) => seededShuffle(a, 10)],
  ['shuffled (seed 2026)', (a) => seededShuffle(a, 2026)],
];

describe('GraphQL over HTTP (graphql-http serverAudits)', () => {
  const json = { 'content-type': 'application/json', accept: 'application/json' };
  const spec = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  let testDatabase: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    database = await testDatabase.open();
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  async function withPortal<T>(run: (url: string) => Promise<T>): Promise<T> {
    const app: App = await createApp(loadConfig(testEnv()), {
      logger: createLogger('silent'),
      database,
    });
    const { url } = await app.start();
    try {
      return await run(`${url}/graphql`);
    } finally {
      await app.stop();
    }
  }

  async function failures(audits: Audit[]) {
    const failed: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (result.status !== 'ok' && !audit.name.startsWith('MAY')) {
        failed.push(`${audit.id} ${audit.name}: ${result.reason}`);
      }
    }
    return failed;
  }

  for (const [door, fetchFn] of doors) {
    for (const [order, arrange] of orders) {
      it(`${door}, ${order}: every MUST and SHOULD passes`, async () => {
        await withPortal(async (url) => {
          const audits = serverAudits({ url, fetchFn });
          expect(audits.length).toBeGreaterThan(50);
          expect(await failures(arrange(audits))).toEqual([]);
        });
      });
    }

    it(`${door}, after the caches hold the failing documents from plain JSON POSTs and GETs`, async () => {
      await withPortal(async (url) => {
        for (const query of BAD_DOCUMENTS) {
          const body = JSON.stringify({ query });
          await (await fetch(url, { method: 'POST', headers: json, body })).text();
          await (await fetch(`${url}?query=${encodeURIComponent(query)}`)).text();
        }
        expect(await failures(serverAudits({ url, fetchFn }))).toEqual([]);
      });
    });
  }

  // The audit's own case (7B9B, 86EE) never reaches coercion: its variable is unused, which
  // validation refuses first.
  it.each([
    [
      'a null for a non-null variable',
      { v: null },
      'Variable "$v" of non-null type "ID!" must not be null.',
    ],
    [
      'a list for an ID',
      { v: [[1]] },
      'Variable "$v" got invalid value [[1]]; ID cannot represent value: [[1]]',
    ],
  ])(
    'variable coercion failure (%s): 400 for graphql-response+json, 200 for application/json',
    async (_name, variables, message) => {
      await withPortal(async (url) => {
        const body = JSON.stringify({
          query: 'query($v: ID!) { tenant(id: $v) { __typename } }',
          variables,
        });
        const answer = await fetch(url, { method: 'POST', headers: spec, body });
        const specBody = await answer.json();
        expect(answer.status).toBe(400);
        expect(specBody).toEqual({
          errors: [
            {
              message,
              locations: [{ line: 1, column: 7 }],
              extensions: { code: 'BAD_USER_INPUT' },
            },
          ],
        });
        for (const headers of [json, { ...json, accept: 'application/json;q=0.9' }]) {
          const plain = await fetch(url, { method: 'POST', headers, body });
          expect({ status: plain.status, body: await plain.json() }).toEqual({
            status: 200,
            body: specBody,
          });
        }
      });
    },
  );

  it.each([
    ['a syntax error', '{ q1 q2 ', 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', '{ q1 q2 }', 'GRAPHQL_VALIDATION_FAILED'],
  ])('%s gets the same answer whichever door saw it first', async (_name, query, code) => {
    await withPortal(async (url) => {
      const body = JSON.stringify({ query });
      const ask = async (headers: Record<string, string>) => {
        const res = await fetch(url, { method: 'POST', headers, body });
        return { status: res.status, body: await res.json() };
      };
      const plainFirst = await ask(json);
      const specAfter = await ask(spec);
      const plainAgain = await ask(json);
      expect(specAfter.status).toBe(400);
      expect(specAfter.body.data).toBeUndefined();
      expect(specAfter.body.errors[0].extensions.code).toBe(code);
      // application/json keeps 200 (the spec's legacy rule), with the same error and code.
      expect(plainFirst).toEqual({ status: 200, body: specAfter.body });
      expect(plainAgain).toEqual(plainFirst);
    });
  });
});
