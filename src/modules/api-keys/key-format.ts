import { hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { RandomSource } from '../../lib/ids.ts';

/**
 * `xag_` + 22 base62 characters (128 random bits) + 6 base62 characters of CRC32 over the rest,
 * as in GitHub's token format: typos are caught without a database lookup, and scanners can
 * recognise a leaked key by its shape.
 */
export const KEY_PREFIX = 'xag_';
const BODY_LENGTH = 22;
const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
export const DISPLAY_PREFIX_LENGTH = 8;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PATTERN = /^xag_[0-9A-Za-z]{28}$/;

function toBase62(value: bigint, width: number): string {
  let out = '';
  let v = value;
  while (v > 0n) {
    out = BASE62[Number(v % 62n)] + out;
    v /= 62n;
  }
  return out.padStart(width, '0');
}

/** CRC32 fits a double exactly: plain numbers here, not BigInt (this runs on every verify). */
function checksum(body: string): string {
  let out = '';
  for (let v = crc32(body); v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(CHECKSUM_LENGTH, '0');
}

export function generateApiKey(random: RandomSource): string {
  const body = KEY_PREFIX + toBase62(BigInt(`0x${random(16).toString('hex')}`), BODY_LENGTH);
  return body + checksum(body);
}

/** Shape and checksum only: no database needed to reject garbage. */
export function isWellFormedKey(key: string): boolean {
  if (key.length !== KEY_LENGTH || !KEY_PATTERN.test(key)) return false;
  const body = key.slice(0, KEY_LENGTH - CHECKSUM_LENGTH);
  return checksum(body) === key.slice(KEY_LENGTH - CHECKSUM_LENGTH);
}

/** One-shot `crypto.hash`: a fraction of createHash's cost for a short input (every verify). */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}
