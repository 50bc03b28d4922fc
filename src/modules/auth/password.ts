import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { WorkGate } from './work-gate.ts';

/** OWASP's scrypt parameters: N=2^17, r=8, p=1 (needs ~128 MiB, so maxmem is raised). */
const LOG_N = 17;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAXMEM = 256 * 1024 * 1024;

/**
 * Every scrypt in the process goes through one gate: libuv's thread pool (UV_THREADPOOL_SIZE,
 * 4 by default) is shared with JWT checks, file and DNS work, so password work may only take
 * part of it, and a burst beyond the queue is told to retry rather than waiting for seconds.
 * The app sets the limits from config (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE).
 */
export const passwordWork = new WorkGate(
  { concurrency: 2, queue: 16 },
  'Too many password checks in progress; retry shortly',
);

function derive(
  password: string,
  salt: Buffer,
  logN: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return passwordWork.run(() => deriveNow(password, salt, logN, r, p));
}

function deriveNow(
  password: string,
  salt: Buffer,
  logN: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { N: 2 ** logN, r, p, maxmem: MAXMEM },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, LOG_N, R, P);
  return `scrypt$${LOG_N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, logN, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !logN || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(
    password,
    Buffer.from(salt, 'base64'),
    Number(logN),
    Number(r),
    Number(p),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Burns the same work as a real check, so unknown emails answer as slowly as wrong passwords. */
let dummyHash: Promise<string> | undefined;
export async function verifyAgainstDummy(password: string): Promise<false> {
  // A refused first attempt (gate full) must not leave a rejected promise cached for good.
  dummyHash ??= hashPassword('dummy-password-for-timing').catch((err) => {
    dummyHash = undefined;
    throw err;
  });
  await verifyPassword(password, await dummyHash);
  return false;
}
