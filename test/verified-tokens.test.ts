import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { UnauthenticatedError } from '../src/lib/errors.ts';
import { issueToken, type TokenSettings } from '../src/modules/auth/tokens.ts';
import { createTokenVerifier } from '../src/modules/auth/verified-tokens.ts';

const settings: TokenSettings = {
  secret: new TextEncoder().encode('a-test-secret-of-at-least-32-bytes!!'),
  issuer: 'xscaler-test',
  audience: 'xscaler-test',
  ttlSeconds: 60,
};
const claims = { userId: 'usr_1', version: 3, sessionId: 'ses_1' };

/** Counts HMAC checks: every one goes through WebCrypto's verify. */
const countVerifications = () => vi.spyOn(crypto.subtle, 'verify');

describe('verified token cache', () => {
  afterEach(() => vi.restoreAllMocks());

  it('checks a token signature once, then answers its claims from memory', async () => {
    const clock = new ManualClock();
    const { token, expiresAt } = await issueToken(settings, clock, claims);
    const verify = createTokenVerifier(settings, clock);
    const hmac = countVerifications();
    const first = await verify(token);
    const again = await verify(token);
    expect(again).toEqual({ ...claims, expiresAt });
    expect(again).toEqual(first);
    expect(hmac).toHaveBeenCalledTimes(1);
  });

  it('refuses a remembered token from its exp on, as jose does', async () => {
    const clock = new ManualClock();
    const { token, expiresAt } = await issueToken(settings, clock, claims);
    const verify = createTokenVerifier(settings, clock);
    await verify(token);
    clock.set(new Date(expiresAt.getTime() - 1));
    await expect(verify(token)).resolves.toMatchObject({ userId: 'usr_1' });
    clock.set(expiresAt);
    const refused = verify(token);
    await expect(refused).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(refused).rejects.toThrow('Token expired; log in again');
  });

  it('never remembers a refused token, nor lets a tampered copy of a good one pass', async () => {
    const clock = new ManualClock();
    const { token } = await issueToken(settings, clock, claims);
    const verify = createTokenVerifier(settings, clock);
    await verify(token);
    const [header, payload, signature] = token.split('.');
    const flipped = signature!.startsWith('A')
      ? `B${signature!.slice(1)}`
      : `A${signature!.slice(1)}`;
    const tampered = `${header}.${payload}.${flipped}`;
    const hmac = countVerifications();
    await expect(verify(tampered)).rejects.toThrow('Invalid token');
    await expect(verify(tampered)).rejects.toThrow('Invalid token');
    expect(hmac).toHaveBeenCalledTimes(2);
  });

  it('keeps at most maxEntries tokens, dropping the oldest', async () => {
    const clock = new ManualClock();
    const tokens = await Promise.all(
      ['usr_a', 'usr_b', 'usr_c'].map(
        async (userId) => (await issueToken(settings, clock, { userId, version: 1 })).token,
      ),
    );
    const verify = createTokenVerifier(settings, clock, 2);
    for (const token of tokens) await verify(token);
    const hmac = countVerifications();
    await verify(tokens[2]!);
    await verify(tokens[1]!);
    expect(hmac).toHaveBeenCalledTimes(0);
    await verify(tokens[0]!);
    expect(hmac).toHaveBeenCalledTimes(1);
  });
});
