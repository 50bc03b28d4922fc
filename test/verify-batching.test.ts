import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { cryptoRandom } from '../src/lib/ids.ts';
import { generateApiKey } from '../src/modules/api-keys/key-format.ts';
import type { Verdict } from '../src/modules/verify/verify.service.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { bearer, verifyRequest } from './helpers/http.ts';
import { scrape, total } from './helpers/metrics.ts';

const clock = new ManualClock(new Date());
// Cache off: every verification is a database lookup, as on a cold instance.
const server = useTestServer({ env: { KEY_CACHE_TTL_S: '0' }, overrides: { clock } });

const mutate = (query: string, variables: Record<string, unknown>, token: string) =>
  server().gql(query, variables, token);

/** Counts the key-lookup statements (the only reads of api_key_secrets by hash). */
function countLookups() {
  const seen: unknown[][] = [];
  const off = server().database.onQuery((q, params) => {
    if (/"api_key_secrets"\."hash" = (any\(|\$1)/.test(q)) seen.push(params);
  });
  return { seen, off };
}

/** The key-lookup histogram's totals: statements, and distinct secrets they read. */
async function batchMetric() {
  const { samples } = await scrape(server().url);
  return {
    statements: total(samples, 'xscaler_portal_verify_lookup_batch_size_count'),
    secrets: total(samples, 'xscaler_portal_verify_lookup_batch_size_sum'),
  };
}

async function keysOfEveryKind() {
  const org = await signupOrg(server());
  const live = await createTenant(server(), org.token);
  const suspended = await createTenant(server(), org.token);
  const usable = await createApiKey(server(), org.token, live.id);
  const other = await createApiKey(server(), org.token, live.id, { scopes: ['logs:write'] });
  const revoked = await createApiKey(server(), org.token, live.id);
  const expiring = await createApiKey(server(), org.token, live.id, {
    expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(),
  });
  const ofSuspended = await createApiKey(server(), org.token, suspended.id);
  await mutate(
    'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
    { id: revoked.id },
    org.token,
  );
  await mutate(
    'mutation($id: ID!) { suspendTenant(id: $id) { __typename } }',
    { id: suspended.id },
    org.token,
  );
  return { live, usable, other, revoked, expiring, ofSuspended };
}

describe('uncached verification, batched', () => {
  it('sends the lookups of one event-loop turn as one statement, each answered for its own key', async () => {
    const k = await keysOfEveryKind();
    clock.advance(60_000); // `expiring` is now past its expiry
    const unknownKey = generateApiKey(cryptoRandom);
    const verify = (key: string, scope = 'metrics:write') =>
      server().app.services.verify.verify({ key }, scope as never, () => 'test');
    const before = await batchMetric();
    const { seen, off } = countLookups();
    let verdicts: Verdict[];
    try {
      verdicts = await Promise.all([
        verify(k.usable.key),
        verify(k.other.key),
        verify(k.revoked.key),
        verify(k.expiring.key),
        verify(k.ofSuspended.key),
        verify(unknownKey),
        verify(k.usable.key), // the same secret twice in one batch
        verify(k.usable.key, 'traces:write'),
      ]);
    } finally {
      off();
    }
    expect(seen).toHaveLength(1);
    // One bound array, whatever the batch's size.
    expect(seen[0]).toHaveLength(1);
    // Six distinct secrets: the same one asked three times is read once.
    expect((seen[0]![0] as string[]).length).toBe(6);
    expect(verdicts.map((v) => v.outcome)).toEqual([
      'ok',
      'missing_scope',
      'revoked',
      'expired',
      'suspended',
      'unknown',
      'ok',
      'ok',
    ]);
    expect(verdicts[0]).toMatchObject({ tenantId: k.live.id, keyId: k.usable.id });
    expect(verdicts[6]).toMatchObject({ tenantId: k.live.id, keyId: k.usable.id });
    // The histogram counts the statement once, with its distinct secrets.
    const after = await batchMetric();
    expect(after.statements - before.statements).toBe(1);
    expect(after.secrets - before.secrets).toBe(6);
  });

  it('looks a lone secret up with a plain primary-key match', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const { seen, off } = countLookups();
    try {
      expect(await verifyRequest(server().url, bearer(key.key))).toMatchObject({
        status: 200,
        orgId: tenant.id,
      });
    } finally {
      off();
    }
    expect(seen).toHaveLength(1);
    expect(typeof seen[0]![0]).toBe('string');
  });

  it('splits a turn with more than 256 lookups over several statements', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const unknown = Array.from({ length: 599 }, () => generateApiKey(cryptoRandom));
    const { seen, off } = countLookups();
    let verdicts: Verdict[];
    try {
      verdicts = await Promise.all(
        [key.key, ...unknown].map((k) =>
          server().app.services.verify.verify({ key: k }, 'metrics:write', () => `src-${k}`),
        ),
      );
    } finally {
      off();
    }
    expect(seen.map((params) => (params[0] as string[]).length)).toEqual([256, 256, 88]);
    expect(verdicts[0]).toMatchObject({ status: 200, tenantId: tenant.id });
    expect(verdicts.slice(1).every((v) => v.outcome === 'unknown')).toBe(true);
  });

  it('answers each of many concurrent HTTP verifications for its own key', async () => {
    const k = await keysOfEveryKind();
    const requests = Array.from({ length: 200 }, (_, i) => {
      const [key, expected] = [
        [k.usable.key, 200],
        [k.other.key, 403],
        [k.revoked.key, 401],
        [k.ofSuspended.key, 401],
      ][i % 4] as [string, number];
      return { key, expected };
    });
    const before = await batchMetric();
    const answers = await Promise.all(
      requests.map(({ key }) => verifyRequest(server().url, bearer(key))),
    );
    expect(answers.map((a) => a.status)).toEqual(requests.map((r) => r.expected));
    for (const [i, answer] of answers.entries())
      if (i % 4 === 0) expect(answer.orgId).toBe(k.live.id);
      else expect(answer.orgId).toBeNull();
    // However the requests fell into turns: 1 to 200 statements, each of 1 to 4 distinct secrets.
    const after = await batchMetric();
    const statements = after.statements - before.statements;
    const secrets = after.secrets - before.secrets;
    expect(statements).toBeGreaterThanOrEqual(1);
    expect(statements).toBeLessThanOrEqual(200);
    expect(secrets).toBeGreaterThanOrEqual(statements);
    expect(secrets).toBeLessThanOrEqual(Math.min(200, 4 * statements));
  });
});
