import { describe, expect, it } from 'vitest';
import { hashApiKey, isWellFormedKey } from '../src/modules/api-keys/key-format.ts';

/**
 * Keys already issued must keep verifying: the checksum (base62 of the body's CRC32, 6
 * characters) and the stored hash (SHA-256, hex) are pinned to vectors computed with the
 * original BigInt and createHash implementations.
 */
const ISSUED = [
  // CRC32 below 62^5: the checksum is padded with a leading zero.
  [
    'xag_00000000000000000000000S1Mnj',
    '377380482e5fa01c036e04e3e4d8c5398299ae43257d4282af97f9886eef098b',
  ],
  // CRC32 above 2^31: no sign trouble in plain numbers.
  [
    'xag_00000000000000000000024W1PxH',
    '4d9efae73ed1a221414e7709d7d164ac84a02120d9634b9aa3a205ca9b75a5c6',
  ],
  [
    'xag_00000000000000000000051uxHeO',
    '614686b55dbf5b90089996d06d714f2a9389a1ddf76f3a94660a664f547c970e',
  ],
] as const;

describe('key format', () => {
  it('accepts the checksums of keys issued before, and nothing one character off', () => {
    for (const [key] of ISSUED) {
      expect(isWellFormedKey(key)).toBe(true);
      const last = key.at(-1)!;
      expect(isWellFormedKey(key.slice(0, -1) + (last === 'a' ? 'b' : 'a'))).toBe(false);
      expect(isWellFormedKey(`${key.slice(0, 10)}Z${key.slice(11)}`)).toBe(false);
    }
  });

  it('hashes a key to the SHA-256 stored for it', () => {
    for (const [key, hash] of ISSUED) expect(hashApiKey(key)).toBe(hash);
  });
});
