import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import {
  clientAddress,
  clientAddressOf,
  rateLimitSubject,
  TrustedProxies,
} from '../src/http/client-address.ts';

describe('client address behind trusted proxies', () => {
  const trusted = TrustedProxies.parse('10.0.0.0/8, ::1, fd00::/8');

  it('ignores X-Forwarded-For from a peer that is not trusted', () => {
    expect(clientAddressOf('203.0.113.9', '198.51.100.1', trusted)).toBe('203.0.113.9');
    expect(clientAddressOf('203.0.113.9', '198.51.100.1', TrustedProxies.parse(''))).toBe(
      '203.0.113.9',
    );
  });

  it('takes the right-most untrusted hop, never what the client prepended', () => {
    expect(clientAddressOf('10.1.1.1', '6.6.6.6, 198.51.100.7, 10.2.2.2', trusted)).toBe(
      '198.51.100.7',
    );
    expect(clientAddressOf('::ffff:10.1.1.1', '198.51.100.7', trusted)).toBe('198.51.100.7');
    expect(clientAddressOf('::1', ['1.1.1.1', '2001:db8::5'], trusted)).toBe('2001:db8::5');
  });

  it('stops at a malformed hop and at a chain of only proxies', () => {
    expect(clientAddressOf('10.1.1.1', 'evil, 10.3.3.3', trusted)).toBe('10.3.3.3');
    expect(clientAddressOf('10.1.1.1', '10.4.4.4', trusted)).toBe('10.4.4.4');
    expect(clientAddressOf('10.1.1.1', undefined, trusted)).toBe('10.1.1.1');
  });

  it('counts IPv6 per /64 and IPv4 per address', () => {
    expect(rateLimitSubject('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(rateLimitSubject('2001:db8:1:2:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(rateLimitSubject('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitSubject('198.51.100.7')).toBe('198.51.100.7');
  });

  it('refuses a malformed TRUSTED_PROXIES setting by name', () => {
    const env = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) };
    expect(() => loadConfig({ ...env, TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, TRUSTED_PROXIES: 'lb.internal' })).toThrow(
      /TRUSTED_PROXIES: "lb.internal" is not an IP address/,
    );
    expect(
      loadConfig({ ...env, TRUSTED_PROXIES: '10.0.0.0/8' }).trustedProxies.trusts('10.9.9.9'),
    ).toBe(true);
  });

  it('tells the operator once when X-Forwarded-For arrives and no proxy is trusted', () => {
    const none = TrustedProxies.parse('');
    let notices = 0;
    none.onIgnoredForwarding = () => notices++;
    const request = (headers: Record<string, string>) =>
      ({ socket: { remoteAddress: '10.0.0.5' }, headers }) as unknown as IncomingMessage;
    expect(clientAddress(request({}), none)).toBe('10.0.0.5');
    expect(notices).toBe(0);
    for (let i = 0; i < 3; i++) {
      expect(clientAddress(request({ 'x-forwarded-for': '198.51.100.1' }), none)).toBe('10.0.0.5');
    }
    expect(notices).toBe(1);
    const some = TrustedProxies.parse('10.0.0.0/8');
    some.onIgnoredForwarding = () => notices++;
    clientAddress(request({ 'x-forwarded-for': '198.51.100.1' }), some);
    expect(notices).toBe(1);
  });
});
