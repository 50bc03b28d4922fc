import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPILE_FROM_EXECUTION } from '../src/graphql/compiled-queries.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { postRaw } from './helpers/graphql-http.ts';
import { yogaOf } from './helpers/yoga.ts';

// Queries run compiled (graphql-jit) from their second execution on: every answer must be the
// one graphql-js gave the first time, byte for byte, errors and statuses included.
describe('compiled queries', () => {
  const server = useTestServer();
  let org: TestOrg;

  beforeAll(async () => {
    org = await signupOrg(server());
    const { id } = await createTenant(server(), org.token, { displayName: 'Compiled' });
    await createApiKey(server(), org.token, id);
  });

  const post = (query: string, variables?: Record<string, unknown>, token?: string) =>
    postRaw(server(), JSON.stringify({ query, variables }), {
      'content-type': 'application/json',
      // The GraphQL-over-HTTP type: a request error (a bad variable) is a 400 there.
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });

  it('runs a repeated query compiled, and a mutation never', async () => {
    const { app } = server();
    const yoga = yogaOf(app);
    const run = async (query: string) => {
      const { execute, contextFactory, schema } = yoga.getEnveloped({
        authorization: `Bearer ${org.token}`,
      });
      const result = (await execute({
        schema,
        document: document(query),
        contextValue: await contextFactory(),
      })) as { data?: unknown; errors?: unknown; stringify?: unknown };
      expect(result.errors).toBeUndefined();
      // graphql-jit hands its serializer along with each result it produced.
      return typeof result.stringify === 'function';
    };
    const documents = new Map<string, ReturnType<typeof parse>>();
    const document = (query: string) => {
      if (!documents.has(query)) documents.set(query, parse(query));
      return documents.get(query)!;
    };
    const read = '{ tenants(first: 5) { edges { node { id apiKeys { id } } } } }';
    const compiled = [];
    for (let i = 1; i <= COMPILE_FROM_EXECUTION + 1; i++) compiled.push(await run(read));
    expect(compiled).toEqual([false, true, true]);
    const write = 'mutation { changePlan(plan: scale) { __typename } }';
    expect([await run(write), await run(write), await run(write)]).toEqual([false, false, false]);
  });

  it('answers a nested read the same, compiled or not', async () => {
    const query =
      '{ tenants(first: 5) { edges { node { id displayName apiKeys { id prefix } } } } }';
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post(query, undefined, org.token));
    expect(answers[0]!.json.data.tenants.edges).toHaveLength(1);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('locates a resolver error and lists errors before data, as graphql-js does', async () => {
    const query = '{\n  tenants(first: 1) { edges { node { id } } } }';
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post(query));
    expect(answers[0]!.text).toMatch(/^\{"errors":\[\{"message":"Authentication required/);
    expect(answers[0]!.json.errors[0].locations).toEqual([{ line: 2, column: 3 }]);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('fails a bad variable of a compiled document as graphql-js does (a 400 request error)', async () => {
    const query = 'query($e: Environment) { tenants(environment: $e) { edges { node { id } } } }';
    const bad = await post(query, { e: 'nope' }, org.token);
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].message).toMatch(/^Variable "\$e" got invalid value "nope"/);
    const good = [
      await post(query, { e: 'prod' }, org.token),
      await post(query, { e: 'prod' }, org.token),
    ];
    expect(good.map((g) => g.status)).toEqual([200, 200]);
    expect(await post(query, { e: 'nope' }, org.token)).toEqual(bad);
    expect(await post(query, { e: ['prod'] }, org.token)).toMatchObject({ status: 400 });
  });
});
