import { createLogger, type Logger } from '../../src/lib/logger.ts';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** A real logger whose lines a test can read, and wait for as they are written. */
export function captureLog(level: 'debug' | 'info' | 'warn' = 'info') {
  const lines: LogLine[] = [];
  const waiters: { match: RegExp; resolve: (line: LogLine) => void }[] = [];
  const logger: Logger = createLogger(level, (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match.test(line.msg)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  return {
    logger,
    lines,
    /** The first line whose message matches, already written or still to come. */
    next(match: RegExp): Promise<LogLine> {
      const seen = lines.find((line) => match.test(line.msg));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
