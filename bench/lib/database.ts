import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** Server the benchmarks create their scratch databases on. */
export const ADMIN_DATABASE_URL =
  process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onAdmin(statement: string): Promise<void> {
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}

/** A fresh, empty database so runs never see each other's rows. */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onAdmin(`create database ${name}`);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // `with (force)` ends connections a failed run may have left open.
    drop: () => onAdmin(`drop database if exists ${name} with (force)`),
  };
}
