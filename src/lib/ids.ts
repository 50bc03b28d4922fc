import { randomBytes } from 'node:crypto';

/** Randomness is injectable so tests can force collisions. */
export type RandomSource = (size: number) => Buffer;
export const cryptoRandom: RandomSource = (size) => randomBytes(size);

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding. */
export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Opaque id for internal records: `<prefix>_` + 16 base32 chars (80 random bits). */
export function newId(prefix: string, random: RandomSource = cryptoRandom): string {
  return `${prefix}_${base32(random(10))}`;
}

const MAX_ID_LENGTH = 200;

/**
 * IDs come from URLs and arguments. One no stored ID can have (NUL, which Postgres text cannot
 * hold, or absurd length) is simply not found, without a database round trip.
 */
export function isPlausibleId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH && !id.includes('\u0000');
}
