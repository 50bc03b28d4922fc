import { describe, expect, it, vi } from 'vitest';
import { ServiceUnavailableError } from '../src/lib/errors.ts';
import { WorkGate } from '../src/modules/auth/work-gate.ts';
import { useTestServer } from './helpers/app.ts';
import { gqlLogin, outcome, type Reply, restLogin } from './helpers/auth-abuse.ts';
import { uniqueEmail } from './helpers/factories.ts';

/**
 * scrypt behind a bounded gate: PASSWORD_HASH_CONCURRENCY hashes at once, PASSWORD_HASH_QUEUE
 * waiting, and beyond that "unavailable, retry" (REST 503 + Retry-After, GraphQL
 * SERVICE_UNAVAILABLE) with nothing counted against the login limit.
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

  it('frees its place when a task fails', async () => {
    const gate = new WorkGate({ concurrency: 1, queue: 0 });
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'ok')).toBe('ok');
  });
});

describe('password hashing under a burst', () => {
  it('answers "unavailable, retry" beyond one hashing and one waiting, on both doors', async () => {
    // Unknown emails still cost a full hash (against the dummy), which is made once first.
    expect(outcome(await restLogin(server().url, uniqueEmail('warm'), 'x'))).toBe('invalid');
    const emails = Array.from({ length: 12 }, () => uniqueEmail('burst'));
    const replies = await Promise.all(
      emails.map((email, i) =>
        i % 2 ? gqlLogin(server().url, email, 'wrong') : restLogin(server().url, email, 'wrong'),
      ),
    );
    const outcomes = replies.map(outcome);
    expect(outcomes.every((o) => o === 'invalid' || o === 'busy')).toBe(true);
    // Twelve hashes of ~0.2 s or more arrive within milliseconds: most cannot find a place.
    expect(outcomes.filter((o) => o === 'busy').length).toBeGreaterThanOrEqual(1);
    expect(outcomes.filter((o) => o === 'invalid').length).toBeGreaterThanOrEqual(1);
    const busy = replies.filter((r) => outcome(r) === 'busy');
    for (const reply of busy) expectUnavailable(reply);

    // A refused attempt was never checked, so it does not count: ten more are all checked.
    const refusedEmail = emails[outcomes.indexOf('busy')]!;
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
