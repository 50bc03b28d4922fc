import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { WorkGate, type WorkGateLimits } from './work-gate.ts';

/**
 * OWASP's scrypt parameters: N=2^17, r=8, p=1 (needs ~128 MiB, so maxmem is raised). Tests may
 * lower N (PASSWORD_HASH_LOG_N, refused below 17 in production) to spend less CPU per signup.
 */
export const DEFAULT_LOG_N = 17;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAXMEM = 256 * 1024 * 1024;

/**
 * Password hashing for one app. Every scrypt goes through its gate: libuv's thread pool
 * (UV_THREADPOOL_SIZE, 4 by default) is shared with JWT checks, file and DNS work, so password
 * work may only take part of it, and a burst beyond the queue is told to retry rather than
 * waiting for seconds. Limits from config (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE).
 * One per app (in Deps), so two apps in one process keep their own limits.
 */
export class Passwords {
  readonly gate: WorkGate;
  /** Burns the same work as a real check, so unknown emails answer as slowly as wrong passwords. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    limits: WorkGateLimits,
    private readonly logN = DEFAULT_LOG_N,
  ) {
    this.gate = new WorkGate(limits, 'Too many password checks in progress; retry shortly');
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.derive(password, salt, this.logN, R, P);
    return `scrypt$${this.logN}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, logN, r, p, salt, hash] = stored.split('$');
    if (scheme !== 'scrypt' || !logN || !r || !p || !salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64');
    const actual = await this.derive(
      password,
      Buffer.from(salt, 'base64'),
      Number(logN),
      Number(r),
      Number(p),
    );
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  async verifyAgainstDummy(password: string): Promise<false> {
    // A refused first attempt (gate full) must not leave a rejected promise cached for good.
    this.dummyHash ??= this.hash('dummy-password-for-timing').catch((err) => {
      this.dummyHash = undefined;
      throw err;
    });
    await this.verify(password, await this.dummyHash);
    return false;
  }

  private derive(password: string, salt: Buffer, logN: number, r: number, p: number) {
    return this.gate.run(() => deriveNow(password, salt, logN, r, p));
  }
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
