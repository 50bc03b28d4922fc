import { describe, expect, it, vi } from 'vitest';
import { ServiceUnavailableError } from '../src/lib/errors.ts';
import { WorkGate } from '../src/modules/auth/work-gate.ts';
import { useTestServer } from './helpers/app.ts';
import { gqlLogin, outcome, type Reply, restLogin } from './helpers/auth-abuse.ts';
import { uniqueEmail } from './helpers/factories.ts';

/**
 * scrypt behind a bounded gate (one per app): PASSWORD_HASH_CONCURRENCY hashes at once,
 * PASSWORD_HASH_QUEUE waiting, and beyond that "unavailable, retry" (REST 503 + Retry-After,
 * GraphQL SERVICE_UNAVAILABLE), answered before the attempt is counted in the database.
 */
vi.setConfig({ testTimeout: 240_000 });
const server = useTestServer({
  env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' },
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('WorkGate', () => {
  it('runs at most `concurrency`, queues at most `queue`, refuses the rest at once', async () => {
    const gate = new WorkGate({ concurrency: 2, queue: 1 }, 'busy');
    const tasks = [deferred(), deferred(), deferred()];
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const runs = tasks.map((task, i) =>
      gate.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await task.promise;
        running--;
        return i;
      }),
    );
    await Promise.resolve();
    expect(gate.stats).toEqual({ running: 2, waiting: 1 });
    await expect(gate.run(async () => 'never')).rejects.toBeInstanceOf(ServiceUnavailableError);
    tasks[0]!.resolve();
    expect(await runs[0]).toBe(0);
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    expect(gate.stats).toEqual({ running: 2, waiting: 0 });
    tasks[1]!.resolve();
    tasks[2]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(most).toBe(2);
    expect(gate.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('has room while a task would run or wait, and none when both are full', async () => {
    const gate = new WorkGate({ concurrency: 1, queue: 1 });
    const tasks = [deferred(), deferred()];
    expect(gate.hasRoom()).toBe(true);
    const first = gate.run(() => tasks[0]!.promise);
    expect(gate.hasRoom()).toBe(true);
    const second = gate.run(() => tasks[1]!.promise);
    expect(gate.hasRoom()).toBe(false);
    tasks[0]!.resolve();
    await first;
    expect(gate.hasRoom()).toBe(true);
    tasks[1]!.resolve();
    await second;
  });

  it('frees its place when a task fails', async () => {
    const gate = new WorkGate({ concurrency: 1, queue: 0 });
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'ok')).toBe('ok');
  });
});

describe('password hashing under a burst', () => {
  it('answers "unavailable, retry" while the gate is full, on both doors, before counting anything', async () => {
    // Unknown emails still cost a full hash (against the dummy), which is made once first.
    expect(outcome(await restLogin(server().url, uniqueEmail('warm'), 'x'))).toBe('invalid');
    // The gate is held by work this test controls: one hashing, one waiting, so it is full.
    const { gate } = server().app.deps.passwords;
    const held = [deferred(), deferred()];
    const holding = held.map((task) => gate.run(() => task.promise));
    expect(gate.stats).toEqual({ running: 1, waiting: 1 });
    expect(gate.hasRoom()).toBe(false);

    const emails = Array.from({ length: 12 }, () => uniqueEmail('burst'));
    const statements: string[] = [];
    const stopRecording = server().database.onQuery((statement) => statements.push(statement));
    const replies = await Promise.all(
      emails.map((email, i) =>
        i % 2 ? gqlLogin(server().url, email, 'wrong') : restLogin(server().url, email, 'wrong'),
      ),
    ).finally(stopRecording);
    expect(replies.map(outcome)).toEqual(emails.map(() => 'busy'));
    for (const reply of replies) expectUnavailable(reply);
    // Refused before the database: no attempt counted, no user read, nothing at all.
    expect(statements.filter((s) => /"(login_failures|login_sources|users)"/.test(s))).toEqual([]);

    // Freed, the gate takes work again; the refused attempt did not count: ten are all checked.
    for (const task of held) task.resolve();
    await Promise.all(holding);
    expect(gate.hasRoom()).toBe(true);
    const refusedEmail = emails[0]!;
    for (let i = 0; i < 10; i++) {
      expect(outcome(await restLogin(server().url, refusedEmail, `wrong-${i}`))).toBe('invalid');
    }
    expect(outcome(await restLogin(server().url, refusedEmail, 'wrong-10'))).toBe('limited');
  });
});

function expectUnavailable(reply: Reply) {
  if (reply.status === 503) {
    expect(reply.json.error).toBe('unavailable');
    expect(reply.json.message).toMatch(/Too many password checks in progress; retry shortly/);
    expect(reply.retryAfter).toBe('1');
  } else {
    expect(reply.json.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(reply.json.errors[0].message).toMatch(/retry shortly/);
  }
}
