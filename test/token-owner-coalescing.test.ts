import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
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

/** Counts the token-owner statements (the per-request read of the user and its session). */
function countOwnerReads() {
  const seen: string[] = [];
  const off = server().database.onQuery((q) => {
    if (/^select .* from "sessions" inner join "users"/.test(q)) seen.push(q);
  });
  return { seen, off };
}

describe('per-request token check, coalesced', () => {
  it('answers each of many concurrent requests for its own token, logged-out and foreign sessions refused', async () => {
    const [a, b, out] = await Promise.all([
      signupOrg(server()),
      signupOrg(server()),
      signupOrg(server()),
    ]);
    expect((await server().gql('mutation { logout }', {}, out.token)).data.logout).toBe(true);
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

  it('reads the sessions of one event-loop turn in one statement', async () => {
    const [a, b] = await Promise.all([signupOrg(server()), signupOrg(server())]);
    const auth = server().app.services.auth;
    const { seen, off } = countOwnerReads();
    let sessions: Awaited<ReturnType<typeof auth.authenticate>>[];
    try {
      sessions = await Promise.all([a.token, b.token, a.token].map((t) => auth.authenticate(t)));
    } finally {
      off();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/= any\(/);
    expect(sessions.map((s) => s.userId)).toEqual([a.userId, b.userId, a.userId]);

    // One alone keeps the plain primary-key match.
    const lone = countOwnerReads();
    try {
      expect((await auth.authenticate(b.token)).userId).toBe(b.userId);
    } finally {
      lone.off();
    }
    expect(lone.seen).toHaveLength(1);
    expect(lone.seen[0]).not.toMatch(/= any\(/);
  });
});
