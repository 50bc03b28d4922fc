/** The history chart's time ranges, and the window and step each asks the API for. */
import './usage-chart.css';

export type UsageRange = '24h' | '7d' | '30d';

interface RangeSpec {
  label: string;
  /** For sentences: "over the last 24 hours". */
  phrase: string;
  durationS: number;
  /** Seconds per point: at most ~360 points whatever the range (the API downsamples). */
  stepS: number;
}

export const USAGE_RANGES: Record<UsageRange, RangeSpec> = {
  '24h': { label: '24 h', phrase: 'the last 24 hours', durationS: 86_400, stepS: 300 },
  '7d': { label: '7 d', phrase: 'the last 7 days', durationS: 7 * 86_400, stepS: 1_800 },
  '30d': { label: '30 d', phrase: 'the last 30 days', durationS: 30 * 86_400, stepS: 7_200 },
};

export interface HistoryWindow {
  from: string;
  to: string;
  step: number;
}

/**
 * The query variables for a range ending now. `to` is rounded up to the next minute, so the
 * variables (and urql's cache key) stay the same for a minute instead of changing every call.
 */
export function historyWindow(range: UsageRange, now = Date.now()): HistoryWindow {
  const spec = USAGE_RANGES[range];
  const to = Math.ceil(now / 60_000) * 60_000;
  return {
    from: new Date(to - spec.durationS * 1000).toISOString(),
    to: new Date(to).toISOString(),
    step: spec.stepS,
  };
}

/** Three toggle buttons (aria-pressed); arrows are not needed, Tab and Enter/Space work. */
export function UsageRangePicker({
  value,
  onChange,
  label = 'Time range',
}: {
  value: UsageRange;
  onChange(range: UsageRange): void;
  label?: string;
}) {
  return (
    <fieldset className="range-picker">
      <legend className="visually-hidden">{label}</legend>
      {(Object.keys(USAGE_RANGES) as UsageRange[]).map((range) => (
        <button
          key={range}
          type="button"
          className="range-button"
          aria-pressed={range === value}
          onClick={() => onChange(range)}
        >
          {USAGE_RANGES[range].label}
        </button>
      ))}
    </fieldset>
  );
}
