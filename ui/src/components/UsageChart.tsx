import { useEffect, useId, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type uPlot from 'uplot';
import { formatDateTime, formatDecimal, formatGb, formatInteger } from './format.ts';
import './components.css';
import './usage-chart.css';

/** One point of `usageHistory` (organisation or tenant): what the chart draws. */
export interface UsagePoint {
  at: string;
  activeSeries: number;
  logsGbThisMonth: number;
  tracesGbThisMonth: number;
}

export interface UsageChartProps {
  /** What the chart shows, e.g. "Organisation usage"; its caption and the start of its summary. */
  title: string;
  /** Oldest first, as `usageHistory` returns them. */
  points: readonly UsagePoint[];
  /** The time axis spans from..to (ISO); without them, the points' own span. */
  from?: string | undefined;
  to?: string | undefined;
  /** For the summary sentence, e.g. "the last 24 hours". */
  rangePhrase?: string | undefined;
  /** Shown instead of the chart when there are no points. */
  emptyText?: string | undefined;
  /** Canvas height in CSS pixels (the width follows the container). */
  height?: number | undefined;
}

type UPlotClass = typeof uPlot;

let uplotLoad: Promise<UPlotClass> | null = null;
/** uPlot comes in its own chunk, on the first chart drawn. */
function loadUPlot(): Promise<UPlotClass> {
  uplotLoad ??= import('./uplot.ts').then((m) => m.default);
  return uplotLoad;
}

/** data-theme on <html> (set by the theme picker): the chart redraws with the new colours. */
function subscribeTheme(listener: () => void): () => void {
  const observer = new MutationObserver(listener);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  return () => observer.disconnect();
}
const readTheme = () => document.documentElement.dataset.theme ?? '';

const SERIES = [
  { key: 'activeSeries', label: 'Peak active series', className: 'series-active' },
  { key: 'logsGbThisMonth', label: 'Logs GB this month', className: 'series-logs' },
  { key: 'tracesGbThisMonth', label: 'Traces GB this month', className: 'series-traces' },
] as const;

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/** "rgb(1, 2, 3)" -> "rgba(1, 2, 3, a)"; anything else gets no fill. */
function withAlpha(color: string, alpha: number): string | undefined {
  const m = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color);
  return m ? `rgba(${m[1]}, ${m[2]}, ${m[3]}, ${alpha})` : undefined;
}

function summarise(
  title: string,
  points: readonly UsagePoint[],
  rangePhrase: string | undefined,
): string {
  const last = points[points.length - 1];
  if (!last) return `${title}: no samples.`;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    if (p.activeSeries < min) min = p.activeSeries;
    if (p.activeSeries > max) max = p.activeSeries;
  }
  const over = rangePhrase ? ` over ${rangePhrase}` : '';
  return (
    `${title}${over}, ${points.length === 1 ? '1 point' : `${formatInteger(points.length)} points`}: ` +
    `peak active series between ` +
    `${formatInteger(min)} and ${formatInteger(max)}, latest ${formatInteger(last.activeSeries)} ` +
    `(${formatDateTime(last.at)}); logs ${formatGb(last.logsGbThisMonth)} and traces ` +
    `${formatGb(last.tracesGbThisMonth)} this month.`
  );
}

/**
 * Usage history on a uPlot canvas: active series (left axis; the API gives each step's peak) and
 * the month's logs and traces GB so far (right axis). The canvas is hidden from screen readers behind a text summary (min, max,
 * latest), and a "Show as table" toggle gives every point as a table.
 */
export function UsageChart({
  title,
  points,
  from,
  to,
  rangePhrase,
  emptyText = 'No usage recorded yet; the first sync runs within 60 s.',
  height = 240,
}: UsageChartProps) {
  const id = useId();
  const [UPlot, setUPlot] = useState<UPlotClass | null>(null);
  const [loadFailed, setLoadFailed] = useState(false);
  const [showTable, setShowTable] = useState(false);
  const [hover, setHover] = useState<number | null>(null);
  const theme = useSyncExternalStore(subscribeTheme, readTheme);
  const plotRef = useRef<HTMLDivElement>(null);
  const probeRef = useRef<HTMLDivElement>(null);
  const empty = points.length === 0;
  const summary = useMemo(
    () => summarise(title, points, rangePhrase),
    [title, points, rangePhrase],
  );

  useEffect(() => {
    if (empty || UPlot) return;
    let live = true;
    loadUPlot().then(
      (cls) => live && setUPlot(() => cls),
      () => live && setLoadFailed(true),
    );
    return () => {
      live = false;
    };
  }, [empty, UPlot]);

  useEffect(() => {
    const el = plotRef.current;
    const probe = probeRef.current;
    if (!UPlot || !el || !probe || empty) return;
    // theme is read so the chart is drawn again with the colours of the theme just chosen.
    void theme;
    // Colours come from CSS variables (light-dark()): read them resolved from probe elements.
    const colorOf = (name: string) =>
      getComputedStyle(probe.querySelector(`.${name}`) as Element).color;
    const [active, logs, traces] = SERIES.map((s) => colorOf(s.className)) as [
      string,
      string,
      string,
    ];
    const axis = colorOf('axis');
    const grid = colorOf('grid');
    const font = `12px ${getComputedStyle(el).fontFamily}`;

    const xs = points.map((p) => Date.parse(p.at) / 1000);
    const data: uPlot.AlignedData = [
      xs,
      points.map((p) => p.activeSeries),
      points.map((p) => p.logsGbThisMonth),
      points.map((p) => p.tracesGbThisMonth),
    ];
    const fromS = from ? Date.parse(from) / 1000 : (xs[0] ?? 0);
    const toS = to ? Date.parse(to) / 1000 : (xs[xs.length - 1] ?? 1);
    const fromZero: uPlot.Range.Function = (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1];
    const axisStyle = {
      stroke: axis,
      font,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
    };

    const chart = new UPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false, setScale: false } },
        scales: {
          x: { time: true, range: [fromS, Math.max(toS, fromS + 1)] },
          series: { range: fromZero },
          gb: { range: fromZero },
        },
        axes: [
          axisStyle,
          {
            ...axisStyle,
            scale: 'series',
            size: 56,
            values: (_u, splits) => splits.map((v) => compact.format(v)),
          },
          {
            ...axisStyle,
            scale: 'gb',
            side: 1,
            size: 64,
            grid: { show: false },
            values: (_u, splits) => splits.map((v) => `${formatDecimal(v)} GB`),
          },
        ],
        series: [
          {},
          {
            label: SERIES[0].label,
            scale: 'series',
            stroke: active,
            fill: withAlpha(active, 0.12),
            width: 2,
          },
          { label: SERIES[1].label, scale: 'gb', stroke: logs, width: 2 },
          { label: SERIES[2].label, scale: 'gb', stroke: traces, width: 2, dash: [6, 4] },
        ],
        hooks: {
          setCursor: [(u) => setHover(u.cursor.idx ?? null)],
        },
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      setHover(null);
    };
  }, [UPlot, points, from, to, height, theme, empty]);

  const shown = (hover != null ? points[hover] : undefined) ?? points[points.length - 1];

  return (
    <figure className="usage-chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} className="usage-chart-caption">
        {title}
      </figcaption>
      {empty ? (
        <p className="usage-chart-empty" data-testid="usage-chart-empty">
          {emptyText}
        </p>
      ) : (
        <>
          <ul className="usage-chart-legend" aria-label="Legend">
            {SERIES.map((s) => (
              <li key={s.key}>
                <span className={`swatch ${s.className}`} aria-hidden="true" />
                <span className="legend-label">{s.label}</span>
                {shown && (
                  <span className="legend-value">
                    {s.key === 'activeSeries'
                      ? formatInteger(shown[s.key])
                      : formatGb(shown[s.key])}
                  </span>
                )}
              </li>
            ))}
            {shown && (
              <li className="legend-at">
                {hover != null ? 'At ' : 'Latest: '}
                <time dateTime={shown.at}>{formatDateTime(shown.at)}</time>
              </li>
            )}
          </ul>
          <div className="usage-chart-probe" ref={probeRef} aria-hidden="true">
            {SERIES.map((s) => (
              <span key={s.key} className={s.className} />
            ))}
            <span className="axis" />
            <span className="grid" />
          </div>
          <div
            className="usage-chart-plot"
            ref={plotRef}
            role="img"
            aria-label={summary}
            data-testid="usage-chart"
            style={{ minHeight: height }}
          >
            {loadFailed && <p className="usage-chart-empty">The chart could not be loaded.</p>}
          </div>
          {/* The same words are the canvas's accessible name: read once, not twice. */}
          <p className="usage-chart-summary" aria-hidden="true">
            {summary}
          </p>
          <button
            type="button"
            className="button secondary usage-chart-toggle"
            aria-expanded={showTable}
            aria-controls={`${id}-table`}
            onClick={() => setShowTable((v) => !v)}
          >
            {showTable ? 'Hide table' : 'Show as table'}
          </button>
          <section
            id={`${id}-table`}
            className="usage-chart-table"
            hidden={!showTable}
            aria-label={`${title}: every point`}
            tabIndex={showTable ? 0 : undefined}
          >
            {showTable && <PointsTable title={title} points={points} />}
          </section>
        </>
      )}
    </figure>
  );
}

function PointsTable({ title, points }: { title: string; points: readonly UsagePoint[] }) {
  const rows = useMemo(() => [...points].reverse(), [points]);
  return (
    <table className="data-table">
      <caption className="visually-hidden">{title}, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col" className="num">
            Peak active series
          </th>
          <th scope="col" className="num">
            Logs GB this month
          </th>
          <th scope="col" className="num">
            Traces GB this month
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((p) => (
          <tr key={p.at}>
            <td>
              <time dateTime={p.at}>{formatDateTime(p.at)}</time>
            </td>
            <td className="num">{formatInteger(p.activeSeries)}</td>
            <td className="num">{formatDecimal(p.logsGbThisMonth)}</td>
            <td className="num">{formatDecimal(p.tracesGbThisMonth)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
