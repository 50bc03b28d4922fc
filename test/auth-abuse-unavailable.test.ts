import { eq, sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { loginFailures } from '../src/db/schema.ts';
import { hashKey } from '../src/modules/auth/attempt-counter.ts';
import { useTestServer } from './helpers/app.ts';
import { outcome, type Reply, restLogin } from './helpers/auth-abuse.ts';
import { PASSWORD, signupOrg } from './helpers/factories.ts';

/**
 * A login that meets a database which cannot serve now (here: a table whose reads fail with
 * SQLSTATE 57014, what PostgreSQL raises for a statement timeout or the pool deadline's cancel)
 * is answered "unavailable, retry" and leaves no counted attempt: obeying Retry-After during an
 * outage never spends the login limit. Both engines: the failure is a real PostgreSQL error.
 */
vi.setConfig({ testTimeout: 120_000 });
const server = useTestServer();

const run = (statement: string) => server().database.db.execute(sql.raw(statement));

/** Every read of `table` fails as a timed-out statement, until `restore`. */
async function makeUnreadable(table: string) {
  await run(`create or replace function test_timed_out() returns boolean language plpgsql as $$
    begin raise exception 'canceling statement due to statement timeout' using errcode = '57014'; end $$`);
  await run(`alter table ${table} rename to ${table}_held`);
  await run(`create view ${table} as select * from ${table}_held where test_timed_out()`);
  return async () => {
    await run(`drop view ${table}`);
    await run(`alter table ${table}_held rename to ${table}`);
  };
}

async function failuresOf(key: string) {
  const rows = await server()
    .database.db.select({ id: loginFailures.id })
    .from(loginFailures)
    .where(eq(loginFailures.keyHash, hashKey(key)));
  return rows.length;
}

function expectUnavailable(reply: Reply) {
  expect(reply.status).toBe(503);
  expect(reply.json.error).toBe('unavailable');
  expect(reply.retryAfter).toBe('1');
}

describe('login while the database cannot serve', () => {
  it('takes the attempt back when the user cannot be read: 12 such failures do not lock the pair', async () => {
    const { email } = await signupOrg(server());
    const restore = await makeUnreadable('users');
    try {
      for (let i = 0; i < 12; i++) {
        expectUnavailable(await restLogin(server().url, email, `wrong-${i}`));
      }
      expect(await failuresOf(`login\n${email}\n127.0.0.1`)).toBe(0);
    } finally {
      await restore();
    }
    expect(outcome(await restLogin(server().url, email, PASSWORD))).toBe('ok');
  });

  it('takes the pair attempt back when the step between the pair and the account counts fails', async () => {
    const { email } = await signupOrg(server());
    // Known addresses are read between the two counts (LoginLimiter.begin).
    const restore = await makeUnreadable('login_sources');
    try {
      for (let i = 0; i < 12; i++) {
        expectUnavailable(await restLogin(server().url, email, `wrong-${i}`));
      }
      expect(await failuresOf(`login\n${email}\n127.0.0.1`)).toBe(0);
      expect(await failuresOf(`account\n${email}`)).toBe(0);
    } finally {
      await restore();
    }
    expect(outcome(await restLogin(server().url, email, PASSWORD))).toBe('ok');
  });

  it('still counts an attempt whose password was checked', async () => {
    const { email } = await signupOrg(server());
    expect(outcome(await restLogin(server().url, email, 'wrong'))).toBe('invalid');
    expect(await failuresOf(`login\n${email}\n127.0.0.1`)).toBe(1);
  });
});
