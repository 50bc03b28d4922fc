import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../config.ts';

/**
 * The secret stored in `file`, made there (readable by this user only) on first use. Exclusive
 * create: an existing file is never overwritten, whatever it holds.
 */
export function keptSecret(file: string): { secret: string; created: boolean } {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let created = true;
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false;
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) {
    throw new ConfigError(
      `${file} holds no usable JWT secret (under 32 characters): delete it to have a new one made`,
    );
  }
  return { secret, created };
}
