import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { yogaOf } from './helpers/yoga.ts';

// patches/@graphql-tools+executor: Yoga's executor builds each result object as `{}` rather than
// `Object.create(null)`, so results share hidden classes and JSON.stringify takes its fast path.
// This fails if an upgrade drops the patch (null-prototype objects again).

/** Every object of a result tree, arrays excluded. */
function objectsOf(value: unknown, into: object[] = []): object[] {
  if (Array.isArray(value)) for (const item of value) objectsOf(item, into);
  else if (typeof value === 'object' && value !== null) {
    into.push(value);
    for (const child of Object.values(value)) objectsOf(child, into);
  }
  return into;
}

/** A legal alias that plain objects treat as their prototype, unless the executor takes care. */
const PROTO = '__proto__';

describe('result objects of the GraphQL executor', () => {
  const server = useTestServer();
  let org: TestOrg;

  beforeAll(async () => {
    org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token, { displayName: 'Plain results' });
    await createApiKey(server(), org.token, tenant.id);
  });

  /** Runs a query through Yoga's envelop (plugins, context, executor) without HTTP. */
  async function executeInProcess(query: string) {
    const { app } = server();
    const yoga = yogaOf(app);
    const { execute, contextFactory, schema } = yoga.getEnveloped({
      authorization: `Bearer ${org.token}`,
    });
    const contextValue = await contextFactory();
    return (await execute({ schema, document: parse(query), contextValue })) as {
      data: any;
      errors?: unknown;
    };
  }

  it('are plain objects, so the nested read serialises on the fast path', async () => {
    const result = await executeInProcess(
      '{ tenants(first: 5) { edges { node { id displayName apiKeys { id prefix } } } } }',
    );
    expect(result.errors).toBeUndefined();
    const objects = objectsOf(result.data);
    // data, tenants, the edge, the node, the key
    expect(objects.length).toBeGreaterThanOrEqual(5);
    for (const object of objects) expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
  });

  it('keep a field aliased `__proto__` as a field of the answer, not a prototype', async () => {
    const result = await executeInProcess(
      '{ __proto__: tenants(first: 5) { edges { node { __proto__: id } } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(Object.keys(result.data)).toEqual([PROTO]);
    const node = result.data[PROTO].edges[0].node;
    expect(Object.keys(node)).toEqual([PROTO]);
    expect(typeof node[PROTO]).toBe('string');
    expect(JSON.stringify(result.data)).toBe(
      `{"__proto__":{"edges":[{"node":{"__proto__":"${node[PROTO]}"}}]}}`,
    );

    // The same over HTTP: the client gets the field.
    const http = await server().gql(
      '{ __proto__: tenants(first: 5) { edges { node { id } } } }',
      {},
      org.token,
    );
    expect(http.errors).toBeUndefined();
    expect(Object.hasOwn(http.data, PROTO)).toBe(true);
  });
});
