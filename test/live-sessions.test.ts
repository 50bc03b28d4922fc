import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { createLiveSessions } from '../src/modules/auth/live-authorization.ts';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, signupOrg } from './helpers/factories.ts';

/**
 * The usage feed's re-check groups subscribers by token: one check per distinct token per push,
 * each subscriber reading its group's answer. Real sessions, real database.
 */
const clock = new ManualClock(new Date());
const server = useTestServer({ overrides: { clock } });

describe('live sessions', () => {
  it('groups subscribers of one token, re-checks each token, and forgets a group with its last subscriber', async () => {
    const org = await signupOrg(server());
    const { services } = server().app;
    const login = await services.auth.login({ email: org.email, password: PASSWORD });
    // Two subscriptions with the same token are two session objects of one token.
    const [first, second, other] = await Promise.all([
      services.auth.authenticate(org.token),
      services.auth.authenticate(org.token),
      services.auth.authenticate(login.token),
    ]);
    const sessions = createLiveSessions(server().app.deps.db, clock);
    const a = sessions.add(first);
    const b = sessions.add(second);
    const c = sessions.add(other);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(sessions.size).toBe(2);

    await sessions.recheck();
    expect([a.authorized, c.authorized]).toEqual([true, true]);

    // One login ends: its group fails the next re-check, the other login's does not.
    await services.auth.logout(other);
    await sessions.recheck();
    expect([a.authorized, c.authorized]).toEqual([true, false]);

    // Past the token's expiry, every group fails.
    clock.advance(first.expiresAt.getTime() - clock.now().getTime() + 1);
    await sessions.recheck();
    expect(a.authorized).toBe(false);

    sessions.remove(a);
    expect(sessions.size).toBe(2);
    sessions.remove(b);
    sessions.remove(c);
    expect(sessions.size).toBe(0);
  });
});
