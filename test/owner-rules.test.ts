import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { users } from '../src/db/schema.ts';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, signupOrg, type TestOrg, uniqueEmail } from './helpers/factories.ts';
import { restAs } from './helpers/rest.ts';

/**
 * The README's owner rules: owners and admins add and remove users, only an owner adds, removes,
 * grants or takes the owner role, nobody removes themselves, and the last owner stays (demotion
 * of the last owner is covered in ui-api.test.ts). Removal races run for real: on PostgreSQL the
 * two transactions overlap and the organisation lock decides; PGlite serialises them.
 */
const server = useTestServer();

interface Member {
  id: string;
  token: string;
}

async function addUser(by: TestOrg | Member, role: 'owner' | 'admin' | 'viewer'): Promise<Member> {
  const email = uniqueEmail(role);
  const res = await server().gql(
    `mutation($e: String!, $p: String!, $r: Role!) { createUser(email: $e, password: $p, role: $r) {
      __typename ... on User { id } } }`,
    { e: email, p: PASSWORD, r: role },
    by.token,
  );
  const id = res.data?.createUser?.id;
  if (!id) throw new Error(`createUser failed: ${JSON.stringify(res)}`);
  const login = await server().gql(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
    { e: email, p: PASSWORD },
  );
  const token = login.data?.login?.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(login)}`);
  return { id, token };
}

const REMOVE = `mutation($id: ID!) { removeUser(id: $id) {
  __typename ... on User { id role } ... on ValidationError { field message } ... on NotFoundError { id } } }`;
const removeGql = (token: string, id: string) => server().gql(REMOVE, { id }, token);
const removeRest = (token: string, id: string) =>
  restAs(server().url, token)('DELETE', `/users/${id}`);

const organisationIds = new Map<string, string>();

/** The organisation's owners, read from the database (its ID is noted while the owner exists). */
async function ownersOf(org: TestOrg): Promise<string[]> {
  let organisationId = organisationIds.get(org.userId);
  if (!organisationId) {
    const [me] = await server()
      .database.db.select({ org: users.organisationId })
      .from(users)
      .where(eq(users.id, org.userId));
    organisationId = me!.org;
    organisationIds.set(org.userId, organisationId);
  }
  const rows = await server()
    .database.db.select({ id: users.id })
    .from(users)
    .where(and(eq(users.organisationId, organisationId), eq(users.role, 'owner')));
  return rows.map((r) => r.id).sort();
}

describe('who may add an owner', () => {
  it('an admin cannot add an owner, over GraphQL or REST; an owner can', async () => {
    const org = await signupOrg(server(), 'Owner Rules A');
    const admin = await addUser(org, 'admin');
    const gql = await server().gql(
      `mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: owner) { __typename } }`,
      { e: uniqueEmail('would-be-owner'), p: PASSWORD },
      admin.token,
    );
    expect(gql.data).toBeNull();
    expect(gql.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(gql.errors?.[0]?.message).toBe('Only an owner can add an owner');
    const rest = await restAs(server().url, admin.token)('POST', '/users', {
      body: { email: uniqueEmail('would-be-owner'), password: PASSWORD, role: 'owner' },
    });
    expect(rest.status).toBe(403);
    expect(rest.json).toEqual({ error: 'forbidden', message: 'Only an owner can add an owner' });
    expect(await ownersOf(org)).toEqual([org.userId]);
    const second = await addUser(org, 'owner');
    expect((await ownersOf(org)).sort()).toEqual([org.userId, second.id].sort());
  });
});

describe('removing users', () => {
  it('an admin cannot remove an owner; nobody removes themselves; an owner removes an owner', async () => {
    const org = await signupOrg(server(), 'Owner Rules B');
    const admin = await addUser(org, 'admin');
    const second = await addUser(org, 'owner');

    const byAdmin = await removeGql(admin.token, org.userId);
    expect(byAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(byAdmin.errors?.[0]?.message).toBe('Only an owner can remove an owner');
    const byAdminRest = await removeRest(admin.token, org.userId);
    expect(byAdminRest.status).toBe(403);
    expect(byAdminRest.json.error).toBe('forbidden');

    const self = await removeGql(org.token, org.userId);
    expect(self.data.removeUser).toEqual({
      __typename: 'ValidationError',
      field: 'id',
      message: 'id: you cannot remove yourself',
    });
    const selfRest = await removeRest(org.token, org.userId);
    expect(selfRest.status).toBe(400);
    expect(selfRest.json.message).toBe('id: you cannot remove yourself');
    expect((await ownersOf(org)).sort()).toEqual([org.userId, second.id].sort());

    const removed = await removeGql(org.token, second.id);
    expect(removed.data.removeUser).toEqual({ __typename: 'User', id: second.id, role: 'owner' });
    expect(await ownersOf(org)).toEqual([org.userId]);
    // The removed owner's token stops at once.
    const after = await server().gql('{ me { id } }', {}, second.token);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('an admin removes admins and viewers; a viewer removes nobody', async () => {
    const org = await signupOrg(server(), 'Owner Rules C');
    const admin = await addUser(org, 'admin');
    const viewer = await addUser(org, 'viewer');
    const byViewer = await removeRest(viewer.token, admin.id);
    expect(byViewer.status).toBe(403);
    expect((await removeRest(admin.token, viewer.id)).status).toBe(200);
    expect((await removeGql(org.token, admin.id)).data.removeUser.__typename).toBe('User');
  });
});

describe('the last owner under concurrency', () => {
  /** The loser of a race is refused as the last owner, or finds its own account gone. */
  const refusedAsLastOwner = (res: { data: any; errors?: any[] }) =>
    res.data?.removeUser?.message === 'id: the last owner cannot be removed' ||
    res.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED';

  it('two owners removing each other at once leave exactly one (GraphQL)', async () => {
    for (let round = 0; round < 4; round++) {
      const org = await signupOrg(server(), `Remove Race ${round}`);
      const second = await addUser(org, 'owner');
      expect(await ownersOf(org)).toHaveLength(2);
      const results = await Promise.all([
        removeGql(org.token, second.id),
        removeGql(second.token, org.userId),
      ]);
      const won = results.filter((r) => r.data?.removeUser?.__typename === 'User');
      expect(won, JSON.stringify(results)).toHaveLength(1);
      const lost = results.find((r) => r !== won[0])!;
      expect(refusedAsLastOwner(lost), JSON.stringify(lost)).toBe(true);
      const survivor = won[0] === results[0] ? org.userId : second.id;
      expect(await ownersOf(org)).toEqual([survivor]);
    }
  });

  it('over REST, and a removal racing a demotion, still leave one owner', async () => {
    for (let round = 0; round < 3; round++) {
      const org = await signupOrg(server(), `Mixed Race ${round}`);
      const second = await addUser(org, 'owner');
      expect(await ownersOf(org)).toHaveLength(2);
      const [a, b] = await Promise.all([
        removeRest(org.token, second.id),
        removeRest(second.token, org.userId),
      ]);
      expect([a.status, b.status].sort(), `${a.text} ${b.text}`).toEqual(
        b.status === 401 || a.status === 401 ? [200, 401] : [200, 400],
      );
      for (const loser of [a, b].filter((r) => r.status === 400)) {
        expect(loser.json).toEqual({
          error: 'validation_error',
          message: 'id: the last owner cannot be removed',
          field: 'id',
        });
      }
      expect(await ownersOf(org)).toHaveLength(1);

      const org2 = await signupOrg(server(), `Demote Race ${round}`);
      const other = await addUser(org2, 'owner');
      expect(await ownersOf(org2)).toHaveLength(2);
      await Promise.all([
        server().gql(
          `mutation($id: ID!) { updateUserRole(id: $id, role: admin) { __typename } }`,
          { id: other.id },
          org2.token,
        ),
        removeGql(other.token, org2.userId),
      ]);
      expect(await ownersOf(org2)).toHaveLength(1);
    }
  });
});
