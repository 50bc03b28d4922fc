import { createRequire } from 'node:module';
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

/** pino, as every component gets it: `logger.info({ fields }, 'message')`, `logger.child(...)`. */
export type Logger = PinoLogger;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** JSON lines (production, tests, log shippers) or pino-pretty's coloured lines (a developer's terminal). */
export type LogFormat = 'json' | 'pretty';

/**
 * Where credentials could sit in a logged object, replaced by pino's `redact` whatever a call
 * site passes: top level and one level down (`{ headers: { authorization } }`, `{ body: { password } }`).
 * No call site logs these today; this keeps a future one from leaking them.
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'refresh_token',
  'access_token',
  'apiKey',
  'api_key',
  'key',
  'secret',
  'jwt',
  'connectionParams',
];
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => {
  const at = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
  return [at, `*${at.startsWith('[') ? at : `.${at}`}`];
});
export const REDACTED = '[redacted]';

/**
 * One JSON object per line: `{"level":"info","time":"<ISO>","pid":1,"msg":"...",...fields}`.
 * `write` receives each line (tests capture them); by default lines go to stderr, written
 * synchronously so none is lost when the process exits.
 */
export function createLogger(
  level: LogLevel,
  write?: (line: string) => void,
  format: LogFormat = 'json',
): Logger {
  const destination: DestinationStream = write
    ? { write }
    : format === 'pretty'
      ? prettyStream()
      : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"info" rather than pino's numbers: readable, and what log queries match on.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
    },
    destination,
  );
}

/** pino-pretty is a dev dependency: a production install has none and keeps JSON lines. */
function prettyStream(): DestinationStream {
  try {
    const { build } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return build({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l' });
  } catch {
    process.stderr.write('LOG_FORMAT=pretty needs pino-pretty (a dev dependency): JSON lines\n');
    return pino.destination({ dest: 2, sync: true });
  }
}
