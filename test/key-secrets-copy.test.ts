import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/modules/api-keys/key-format.ts';
import { useTestServer } from './helpers/app.ts';
import { engine } from './helpers/database.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';

/**
 * Uncached verification reads the secret's row alone: the key's tenant, scopes, expiry and
 * revocation and the tenant's status are copied onto it by triggers. Every way those change
 * (the services, plain SQL, a write racing another) must leave the copy equal to its source,
 * or a revoked key or a suspended tenant's key would verify.
 */
const server = useTestServer();

const gql = (query: string, variables: Record<string, unknown>, token: string) =>
  server().gql(query, variables, token);
const lookup = (key: string) => server().app.services.verify.load(hashApiKey(key));

function rowsOf(result: unknown): Record<string, unknown>[] {
  return ((result as { rows?: unknown }).rows ?? result) as Record<string, unknown>[];
}

/** Secrets whose copy differs from their key and tenant: none, ever. */
async function driftedSecrets(): Promise<unknown[]> {
  return rowsOf(
    await server().database.db.execute(sql`
      select s.hash from api_key_secrets s
        join api_keys k on k.id = s.key_id
        join tenants t on t.id = k.tenant_id
       where (s.tenant_id, s.scopes, s.expires_at, s.revoked_at, s.tenant_status)
             is distinct from (k.tenant_id, k.scopes, k.expires_at, k.revoked_at, t.status)`),
  );
}

async function setup() {
  const org = await signupOrg(server());
  const tenant = await createTenant(server(), org.token);
  const expiresAt = '2099-01-01T00:00:00.000Z';
  const key = await createApiKey(server(), org.token, tenant.id, {
    scopes: ['logs:write'],
    expiresAt,
  });
  return { org, tenant, key, expiresAt };
}

describe('api_key_secrets copy of key and tenant', () => {
  it('a new key: its secret carries the tenant, scopes and expiry', async () => {
    const { tenant, key, expiresAt } = await setup();
    expect(await lookup(key.key)).toEqual({
      grant: {
        keyId: key.id,
        tenantId: tenant.id,
        scopes: ['logs:write'],
        validUntil: new Date(expiresAt).getTime(),
      },
      tenantId: tenant.id,
    });
    expect(await driftedSecrets()).toEqual([]);
  });

  it('tenant suspended, resumed, deleted: every secret of it follows', async () => {
    const { org, tenant, key } = await setup();
    const other = await createApiKey(server(), org.token, tenant.id);
    const status = async (mutation: string) => {
      await gql(
        `mutation($id: ID!) { ${mutation}(id: $id) { __typename } }`,
        { id: tenant.id },
        org.token,
      );
      return [(await lookup(key.key)).refusal, (await lookup(other.key)).refusal];
    };
    expect(await status('suspendTenant')).toEqual(['suspended', 'suspended']);
    expect(await driftedSecrets()).toEqual([]);
    expect(await status('resumeTenant')).toEqual([undefined, undefined]);
    expect((await lookup(key.key)).grant?.keyId).toBe(key.id);
    expect(await status('deleteTenant')).toEqual(['suspended', 'suspended']);
    expect(await driftedSecrets()).toEqual([]);
  });

  it('key revoked: its current and previous secrets are refused', async () => {
    const { org, key } = await setup();
    const rolled = await gql(
      'mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 300) { ... on IssuedApiKey { key } } }',
      { id: key.id },
      org.token,
    );
    const newKey: string = rolled.data.rollApiKey.key;
    expect((await lookup(key.key)).grant).not.toBeNull();
    await gql(
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: key.id },
      org.token,
    );
    expect((await lookup(key.key)).refusal).toBe('revoked');
    expect((await lookup(newKey)).refusal).toBe('revoked');
    expect(await driftedSecrets()).toEqual([]);
  });

  it('key rolled: the new secret has the copy, the old one its grace, the one before is gone', async () => {
    const { org, tenant, key, expiresAt } = await setup();
    const roll = async (id: string) =>
      (
        await gql(
          'mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 300) { ... on IssuedApiKey { key apiKey { previousExpiresAt } } } }',
          { id },
          org.token,
        )
      ).data.rollApiKey;
    const first = await roll(key.id);
    expect(await lookup(first.key)).toEqual({
      grant: {
        keyId: key.id,
        tenantId: tenant.id,
        scopes: ['logs:write'],
        validUntil: new Date(expiresAt).getTime(),
      },
      tenantId: tenant.id,
    });
    // The old secret works until its grace ends (the API shows that instant to the second).
    const graceEnd = new Date(first.apiKey.previousExpiresAt).getTime();
    const validUntil = (await lookup(key.key)).grant?.validUntil ?? 0;
    expect(validUntil - graceEnd).toBeGreaterThanOrEqual(0);
    expect(validUntil - graceEnd).toBeLessThan(1000);
    const second = await roll(key.id);
    expect(await lookup(key.key)).toEqual({ grant: null, tenantId: undefined });
    expect((await lookup(first.key)).grant?.keyId).toBe(key.id);
    expect((await lookup(second.key)).grant?.keyId).toBe(key.id);
    expect(await driftedSecrets()).toEqual([]);
  });

  it('follows plain SQL too: the triggers, not the services, keep the copy', async () => {
    const { tenant, key } = await setup();
    const db = server().database.db;
    await db.execute(sql`update api_keys set revoked_at = now() where id = ${key.id}`);
    expect((await lookup(key.key)).refusal).toBe('revoked');
    await db.execute(
      sql`update api_keys set revoked_at = null, scopes = '{metrics:write}' where id = ${key.id}`,
    );
    expect((await lookup(key.key)).grant?.scopes).toEqual(['metrics:write']);
    await db.execute(sql`update tenants set status = 'suspended' where id = ${tenant.id}`);
    expect((await lookup(key.key)).refusal).toBe('suspended');
    // A secret written directly for a suspended tenant's key takes the status too.
    const hash = 'f'.repeat(64);
    await db.execute(sql`insert into api_key_secrets (hash, key_id) values (${hash}, ${key.id})`);
    expect((await server().app.services.verify.load(hash)).refusal).toBe('suspended');
    expect(await driftedSecrets()).toEqual([]);
  });

  it('refuses a secret of a key that does not exist, saying so', async () => {
    await expect(
      server().database.db.execute(
        sql`insert into api_key_secrets (hash, key_id) values (${'e'.repeat(64)}, 'key_missing')`,
      ),
    ).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/no api key key_missing/) },
    });
  });
});

// PGlite runs one statement at a time: only PostgreSQL has concurrent transactions to race.
describe.skipIf(engine !== 'postgres')('a status change racing a new secret', () => {
  /** Two sessions; `insert` adds a secret for the key in an open transaction (as a roll does). */
  async function race(first: 'insert' | 'suspend') {
    const { key, tenant } = await setup();
    const client = postgres(server().testDatabase.url!, { max: 2, onnotice: () => {} });
    const [writer, admin] = await Promise.all([client.reserve(), client.reserve()]);
    const hash = (first === 'insert' ? 'a' : 'b').repeat(64);
    try {
      const [a, b] = first === 'insert' ? [writer, admin] : [admin, writer];
      const statements = {
        insert: () =>
          writer`insert into api_key_secrets (hash, key_id) values (${hash}, ${key.id})`,
        suspend: () => admin`update tenants set status = 'suspended' where id = ${tenant.id}`,
      };
      const second = first === 'insert' ? 'suspend' : 'insert';
      await a`begin`;
      await statements[first]();
      // The second one waits for the first's transaction (the trigger's share lock, or the
      // status change's row lock), then sees what it committed.
      let done = false;
      const waiting = (async () => {
        await b`begin`;
        await statements[second]();
        await b`commit`;
        done = true;
      })();
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      await a`commit`;
      await waiting;
    } finally {
      writer.release();
      admin.release();
      await client.end();
    }
    expect((await server().app.services.verify.load(hash)).refusal).toBe('suspended');
    expect(await driftedSecrets()).toEqual([]);
  }

  it('a suspension while a new secret is uncommitted covers it once both commit', () =>
    race('insert'));
  it('a new secret while a suspension is uncommitted takes the suspended status', () =>
    race('suspend'));
});
