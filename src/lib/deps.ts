import type { Config } from '../config.ts';
import type { Database, Db } from '../db/client.ts';
import type { Passwords } from '../modules/auth/password.ts';
import type { Clock } from './clock.ts';
import type { EventBus } from './events.ts';
import type { RandomSource } from './ids.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** What every service is built from; tests swap the clock and randomness. */
export interface Deps {
  db: Db;
  /** Drizzle-built statements run on the driver directly: key verification's lookup only. */
  statement: Database['statement'];
  config: Config;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  events: EventBus;
  /** scrypt behind this app's own gate (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE). */
  passwords: Passwords;
  /** This app's Prometheus metrics; services use its typed recorders. */
  metrics: Metrics;
}

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
