import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createTokenOwnerLookup } from '../src/modules/auth/token-owner.ts';
import { TEST_JWT_SECRET, testEnv, useTestServer } from './helpers/app.ts';
import { signupOrg } from './helpers/factories.ts';

const server = useTestServer();
const ME = '{ me { id } }';

/** The session id a token carries (its `sid` claim). */
const sessionOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;

/** A token for `userId` naming someone else's session, signed with the server's own secret. */
async function tokenWithForeignSession(userId: string, sessionId: string) {
  const { jwt } = loadConfig(testEnv());
  const now = Math.floor(Date.now() / 1000);
  // The version the users start at: only the session check can refuse it.
  return new SignJWT({ ver: 1, sid: sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

/** Two organisations' owners, and a third whose session has logged out. */
async function twoUsersAndALoggedOutOne() {
  const [a, b, out] = await Promise.all([
    signupOrg(server()),
    signupOrg(server()),
    signupOrg(server()),
  ]);
  expect((await server().gql('mutation { logout }', {}, out.token)).data.logout).toBe(true);
  return { a, b, out };
}

describe('per-request token check, coalesced', () => {
  it('answers each of many concurrent requests for its own token, logged-out and foreign sessions refused, however they fall into turns', async () => {
    const { a, b, out } = await twoUsersAndALoggedOutOne();
    const forged = await tokenWithForeignSession(a.userId, sessionOf(b.token));
    const cases = [
      { token: a.token, me: a.userId },
      { token: b.token, me: b.userId },
      { token: out.token, me: null },
      { token: forged, me: null },
    ];
    const requests = Array.from({ length: 120 }, (_, i) => cases[i % cases.length]!);
    const answers = await Promise.all(
      requests.map(({ token }) => server().gql<{ me: { id: string } | null }>(ME, {}, token)),
    );
    for (const [i, answer] of answers.entries()) {
      const expected = requests[i]!.me;
      if (expected) expect(answer.data?.me?.id).toBe(expected);
      else expect(answer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('reads the lookups of one event-loop turn in one statement per kind, each for its own token', async () => {
    const { a, b, out } = await twoUsersAndALoggedOutOne();
    // Its own lookup, so nothing else runs in the turn (the token checks before it are async).
    const owner = createTokenOwnerLookup(server().database.db);
    const reads: string[] = [];
    const off = server().database.onQuery((q) => {
      if (/^select .* from "(sessions" inner join "users|users)" .*"id" = /.test(q)) reads.push(q);
    });
    let owners: Awaited<ReturnType<typeof owner>>[];
    try {
      owners = await Promise.all([
        owner({ userId: a.userId, sessionId: sessionOf(a.token) }),
        owner({ userId: out.userId, sessionId: sessionOf(out.token) }),
        owner({ userId: a.userId, sessionId: sessionOf(b.token) }), // someone else's session
        owner({ userId: a.userId, sessionId: 'ses_unknown' }),
        owner({ userId: b.userId }), // tokens from before sessions: the user alone
        owner({ userId: a.userId }),
        owner({ userId: a.userId, sessionId: sessionOf(a.token) }), // the same again
      ]);
    } finally {
      off();
    }
    expect(reads).toHaveLength(2);
    expect(reads.every((q) => /= any\(/.test(q))).toBe(true);
    expect(owners.map((o) => o?.id)).toEqual([
      a.userId,
      out.userId,
      undefined,
      undefined,
      b.userId,
      a.userId,
      a.userId,
    ]);
    expect(owners[0]?.endedAt).toBeNull();
    expect(owners[1]?.endedAt).toBeInstanceOf(Date);

    // One alone keeps the plain primary-key match.
    const lone: string[] = [];
    const offLone = server().database.onQuery((q) => {
      if (/^select .* from "sessions" inner join "users"/.test(q)) lone.push(q);
    });
    try {
      expect((await owner({ userId: b.userId, sessionId: sessionOf(b.token) }))?.id).toBe(b.userId);
    } finally {
      offLone();
    }
    expect(lone).toHaveLength(1);
    expect(lone[0]).not.toMatch(/= any\(/);
  });
});
