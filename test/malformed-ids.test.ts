import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { signupOrg } from './helpers/factories.ts';

const server = useTestServer();

/** Every operation that takes an ID, with the field whose __typename must be NotFoundError. */
const OPERATIONS: [string, string][] = [
  ['tenant', 'query($id: ID!) { r: tenant(id: $id) { __typename } }'],
  ['apiKeys', 'query($id: ID!) { r: apiKeys(tenantId: $id) { __typename } }'],
  [
    'updateTenant',
    'mutation($id: ID!) { r: updateTenant(id: $id, displayName: "x") { __typename } }',
  ],
  ['deleteTenant', 'mutation($id: ID!) { r: deleteTenant(id: $id) { __typename } }'],
  ['suspendTenant', 'mutation($id: ID!) { r: suspendTenant(id: $id) { __typename } }'],
  ['resumeTenant', 'mutation($id: ID!) { r: resumeTenant(id: $id) { __typename } }'],
  [
    'createApiKey',
    'mutation($id: ID!) { r: createApiKey(tenantId: $id, displayName: "k") { __typename } }',
  ],
  ['revokeApiKey', 'mutation($id: ID!) { r: revokeApiKey(id: $id) { __typename } }'],
  [
    'rollApiKey',
    'mutation($id: ID!) { r: rollApiKey(id: $id, gracePeriodSeconds: 0) { __typename } }',
  ],
  ['removeUser', 'mutation($id: ID!) { r: removeUser(id: $id) { __typename } }'],
];

describe('IDs no record can have', () => {
  it.each(['xs_a\u0000b_aaaaaaaa', 'x'.repeat(5_000), ''])(
    'are not found, never an internal error (%#)',
    async (id) => {
      const org = await signupOrg(server());
      for (const [name, query] of OPERATIONS) {
        const res = await server().gql(query, { id }, org.token);
        expect(res.errors, name).toBeUndefined();
        expect(res.data.r.__typename, name).toBe('NotFoundError');
      }
    },
  );
});
