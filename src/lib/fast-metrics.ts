import type { MetricValue, Registry } from 'prom-client';

/**
 * Counters and histograms for hot paths (every /auth/verify, every request), kept in plain
 * numbers and rendered by the registry only at scrape. prom-client's own children validate and
 * hash their labels on every call, which costs a cached verify a visible share of its speed.
 * Each series is an object the caller holds, so recording is an addition.
 */

interface FamilyOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
}

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  /** Per bucket, not cumulative (the scrape adds them up); the last is +Inf. */
  readonly counts: Float64Array;
  sum: number;
}

abstract class Family<S> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  private readonly series = new Map<string, { labels: Record<string, string>; s: S }>();

  constructor(
    registry: Registry,
    private readonly options: FamilyOptions,
  ) {
    this.name = options.name;
    this.help = options.help;
    registry.registerMetric(this as never);
  }

  abstract readonly type: 'counter' | 'histogram';
  protected abstract create(): S;
  protected abstract values(labels: Record<string, string>, s: S): MetricValue<string>[];

  /** The series of these label values (in labelNames order), made on first use. */
  of(...values: string[]): S {
    const key = values.join('\u0000');
    let found = this.series.get(key);
    if (!found) {
      const labels: Record<string, string> = {};
      this.options.labelNames.forEach((n, i) => {
        labels[n] = values[i]!;
      });
      found = { labels, s: this.create() };
      this.series.set(key, found);
    }
    return found.s;
  }

  /** What Registry renders (the shape of prom-client's own metrics' get()). */
  get(): {
    name: string;
    help: string;
    type: string;
    values: MetricValue<string>[];
    aggregator: 'sum';
  } {
    const values = [...this.series.values()].flatMap(({ labels, s }) => this.values(labels, s));
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  reset(): void {
    this.series.clear();
  }
}

export class FastCounter extends Family<CounterSeries> {
  readonly type = 'counter' as const;
  protected create(): CounterSeries {
    return { value: 0 };
  }
  protected values(labels: Record<string, string>, s: CounterSeries) {
    return [{ labels, value: s.value }];
  }
}

export class FastHistogram extends Family<HistogramSeries> {
  readonly type = 'histogram' as const;
  constructor(
    registry: Registry,
    options: FamilyOptions,
    private readonly bounds: readonly number[],
  ) {
    super(registry, options);
  }

  protected create(): HistogramSeries {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0 };
  }

  observe(s: HistogramSeries, value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    s.counts[i] = s.counts[i]! + 1;
    s.sum += value;
  }

  protected values(labels: Record<string, string>, s: HistogramSeries) {
    const out: MetricValue<string>[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += s.counts[i]!;
      const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
      out.push({
        labels: { le, ...labels } as never, // prom-client writes le first
        value: cumulative,
        metricName: `${this.name}_bucket`,
      } as MetricValue<string>);
    }
    out.push({ labels, value: s.sum, metricName: `${this.name}_sum` } as MetricValue<string>);
    out.push({
      labels,
      value: cumulative,
      metricName: `${this.name}_count`,
    } as MetricValue<string>);
    return out;
  }
}
