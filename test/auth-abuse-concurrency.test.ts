import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loginFailures } from '../src/db/schema.ts';
import { hashKey } from '../src/modules/auth/attempt-counter.ts';
import { useTestServer } from './helpers/app.ts';
import { gqlLogin, type Reply, restLogin, tally } from './helpers/auth-abuse.ts';
import { PASSWORD, signupOrg } from './helpers/factories.ts';

/**
 * The login limit (10 per email and address in 5 minutes) under real concurrency: 50 wrong
 * passwords sent at once evaluate at most 10 (exactly 10), whichever doors they come through,
 * because each attempt is counted in the database, under a lock on its key, before its password
 * is checked.
 */
// Ten full scrypts per case: slow on a busy CI machine.
vi.setConfig({ testTimeout: 240_000 });
const server = useTestServer();

const wrong = (i: number) => `wrong-password-${i}`;

async function fifty(send: (email: string, i: number) => Promise<Reply>) {
  const { email } = await signupOrg(server());
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => send(email, i)));
  return { email, counts: tally(replies), replies };
}

function expectAtMostTenEvaluated(counts: Record<string, number>) {
  // Every answer is either an evaluated wrong password or a refusal before any hashing.
  // Counted under a per-key lock: exactly the limit is checked, never more, never fewer.
  expect(counts).toEqual({ invalid: 10, limited: 40 });
}

/** The failures left for the pair: exactly the evaluated attempts, none of the refused ones. */
async function storedFailures(email: string) {
  const rows = await server()
    .database.db.select({ id: loginFailures.id })
    .from(loginFailures)
    .where(eq(loginFailures.keyHash, hashKey(`login\n${email}\n127.0.0.1`)));
  return rows.length;
}

beforeAll(async () => {
  // The first unknown-email check computes the dummy hash; not part of what is measured.
  await restLogin(server().url, 'warm-up@example.com', 'x');
});

describe('login limit under concurrency', () => {
  it('50 wrong passwords at once over REST: at most 10 are checked, the rest get 429', async () => {
    const { email, counts, replies } = await fifty((email, i) =>
      restLogin(server().url, email, wrong(i)),
    );
    expectAtMostTenEvaluated(counts);
    expect(replies.filter((r) => r.status === 429).every((r) => Number(r.retryAfter) > 0)).toBe(
      true,
    );
    expect(await storedFailures(email)).toBe(counts.invalid);
    // The right password is refused too now: the limit holds before the password is checked.
    expect((await restLogin(server().url, email, PASSWORD)).status).toBe(429);
  });

  it('50 wrong passwords at once over GraphQL: at most 10 are checked', async () => {
    const { email, counts } = await fifty((email, i) => gqlLogin(server().url, email, wrong(i)));
    expectAtMostTenEvaluated(counts);
    expect(await storedFailures(email)).toBe(counts.invalid);
  });

  it('50 at once, REST and GraphQL mixed: one count for both doors', async () => {
    const { email, counts } = await fifty((email, i) =>
      i % 2 === 0
        ? restLogin(server().url, email, wrong(i))
        : gqlLogin(server().url, email, wrong(i)),
    );
    expectAtMostTenEvaluated(counts);
    expect(await storedFailures(email)).toBe(counts.invalid);
  });
});
