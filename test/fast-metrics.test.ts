import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../src/lib/fast-metrics.ts';

// fast-metrics bypasses prom-client's own children for speed and registers objects that only
// mimic its metrics (get() in the shape Registry renders). If prom-client changes that contract,
// these comparisons with its own Counter and Histogram fail.

const BOUNDS = [0.005, 0.05, 0.5];
const OBSERVED = [0.001, 0.005, 0.02, 0.2, 3, 0.049];

function fastRegistry() {
  const registry = new Registry();
  const counter = new FastCounter(registry, {
    name: 'demo_requests_total',
    help: 'Requests.',
    labelNames: ['door', 'status'],
  });
  const histogram = new FastHistogram(
    registry,
    { name: 'demo_duration_seconds', help: 'Duration.', labelNames: ['door'] },
    BOUNDS,
  );
  counter.of('rest', '200').value += 3;
  counter.of('verify', '401').value += 1;
  const series = histogram.of('rest');
  for (const v of OBSERVED) histogram.observe(series, v);
  return registry;
}

function promClientRegistry() {
  const registry = new Registry();
  const counter = new Counter({
    name: 'demo_requests_total',
    help: 'Requests.',
    labelNames: ['door', 'status'],
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'demo_duration_seconds',
    help: 'Duration.',
    labelNames: ['door'],
    buckets: BOUNDS,
    registers: [registry],
  });
  counter.inc({ door: 'rest', status: '200' }, 3);
  counter.inc({ door: 'verify', status: '401' }, 1);
  for (const v of OBSERVED) histogram.observe({ door: 'rest' }, v);
  return registry;
}

describe('fast metrics against prom-client’s own', () => {
  it('render the same text', async () => {
    expect(await fastRegistry().metrics()).toBe(await promClientRegistry().metrics());
  });

  it('merge across workers the same way (AggregatorRegistry)', async () => {
    const merge = async (make: () => Registry) => {
      const a = await make().getMetricsAsJSON();
      const b = await make().getMetricsAsJSON();
      return AggregatorRegistry.aggregate([a, b]).metrics();
    };
    const fast = await merge(fastRegistry);
    expect(fast).toBe(await merge(promClientRegistry));
    expect(fast).toContain('demo_requests_total{door="rest",status="200"} 6');
  });
});
