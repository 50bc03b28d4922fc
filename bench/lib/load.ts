import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  /** Every response must be byte-identical to this, or it counts as a mismatch. */
  expectBody?: string;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  /** Connection errors, timeouts, non-2xx answers and unexpected bodies: all must be 0. */
  failures: { errors: number; timeouts: number; non2xx: number; mismatches: number };
}

/** POSTs `body` in a loop from a worker thread, so the load generator does not share the event loop of the servers under test. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.durationS,
    expectBody: options.expectBody,
    workers: 1,
  });
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    completed: result['2xx'],
    failures: {
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      mismatches: result.mismatches,
    },
  };
}

export function failureCount(result: LoadResult): number {
  const f = result.failures;
  return f.errors + f.timeouts + f.non2xx + f.mismatches;
}

/** A plain aligned text table (console.table quotes strings and adds an index column). */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // First column (names) left-aligned, numbers right-aligned.
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The middle value (the upper one of an even count): the runs' typical figure, spikes ignored. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
