import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Which peers may say who the client is. Behind a load balancer every request arrives from the
 * balancer's address; only when the peer is one of these does `X-Forwarded-For` name the client.
 * Empty: the socket's address is the client, whatever headers say.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** Entries are addresses or CIDR ranges, IPv4 or IPv6 ("10.0.0.0/8", "::1", "fd00::/8"). */
  constructor(readonly entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address);
      if (family === 0) throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        this.list.addAddress(address, type);
        continue;
      }
      const prefix = Number(bits);
      const max = family === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(bits) || prefix > max) {
        throw new Error(`${JSON.stringify(entry)}: the prefix length must be 0 to ${max}`);
      }
      this.list.addSubnet(address, prefix, type);
    }
    this.empty = entries.length === 0;
  }

  /** Parses the TRUSTED_PROXIES setting: comma-separated addresses or CIDRs. */
  static parse(setting: string | undefined): TrustedProxies {
    const entries = (setting ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return new TrustedProxies(entries);
  }

  /**
   * Called once, the first time X-Forwarded-For arrives while no proxy is trusted: behind a
   * load balancer that means every client shares the balancer's address in every per-address
   * limit, which an operator should hear about.
   */
  onIgnoredForwarding: (() => void) | undefined;
  private noticed = false;

  noticeIgnoredForwarding(): void {
    if (this.noticed) return;
    this.noticed = true;
    this.onIgnoredForwarding?.();
  }

  trusts(address: string): boolean {
    if (this.empty) return false;
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** "::ffff:10.1.2.3" (IPv4 on a dual-stack socket) is 10.1.2.3. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy; then the
 * right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its left
 * are whatever the client chose to send, so they are never believed).
 */
export function clientAddressOf(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string {
  let client = normalizeAddress(peer ?? '');
  if (!trusted.trusts(client) || forwardedFor === undefined) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]!.trim());
    if (isIP(hop) === 0) return client; // a malformed hop: stop at the last address we trust
    client = hop;
    if (!trusted.trusts(hop)) return hop;
  }
  return client;
}

export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  const forwardedFor = req.headers['x-forwarded-for'];
  if (forwardedFor !== undefined && trusted.empty) trusted.noticeIgnoredForwarding();
  return clientAddressOf(req.socket.remoteAddress, forwardedFor, trusted);
}

/**
 * The unit a rate limit counts per source. One IPv6 host usually holds a whole /64 and can
 * rotate through it at will, so IPv6 addresses count per /64; IPv4 per address.
 */
export function rateLimitSubject(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(':')}::/64`;
}
