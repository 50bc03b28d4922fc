import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The metric each default usage query reads, and the label carrying the tenant ID. */
const METRICS = [
  { metric: 'cortex_ingester_active_series', label: 'user' },
  { metric: 'loki_distributor_bytes_received_total', label: 'tenant' },
  { metric: 'tempo_distributor_bytes_received_total', label: 'tenant' },
] as const;

export interface PrometheusStub {
  url: string;
  /** Answers every query with one series per tenant from now on; returns the expected usage. */
  setTenants(ids: string[]): ExpectedUsage;
  stop(): Promise<void>;
}

export interface ExpectedUsage {
  activeSeries: number;
  /** Bytes of the three JSON answers together. */
  answerBytes: number;
}

/**
 * A lean Prometheus query API for benchmarks. Unlike test/helpers/prometheus-fixture.ts it
 * serialises its answers once per tenant set, not per request: at 50,000 tenants building the
 * JSON would otherwise cost the measured tick tens of milliseconds in this same process.
 */
export async function startPrometheusStub(): Promise<PrometheusStub> {
  let bodies = new Map<string, Buffer>();
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const query = new URLSearchParams(body).get('query') ?? '';
    const metric = METRICS.find((m) => query.includes(m.metric))?.metric;
    const answer = metric ? bodies.get(metric) : undefined;
    if (!answer) return void res.writeHead(400).end(`no series for ${query}`);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setTenants(ids) {
      bodies = new Map(METRICS.map(({ metric, label }) => [metric, vectorAnswer(ids, label)]));
      let answerBytes = 0;
      for (const body of bodies.values()) answerBytes += body.length;
      // Tenant i has activeSeriesOf(i) series: the bench checks the stored sum against this.
      const activeSeries = ids.reduce((sum, _id, i) => sum + activeSeriesOf(i), 0);
      return { activeSeries, answerBytes };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Varied but deterministic numbers, so a mixed-up join would show in the stored sums. */
function activeSeriesOf(index: number): number {
  return 1000 + (index % 9973);
}

function vectorAnswer(ids: string[], label: string): Buffer {
  const at = Math.floor(Date.now() / 1000);
  const result = ids.map((id, i) => ({
    metric: { [label]: id },
    value: [at, String(label === 'user' ? activeSeriesOf(i) : (i + 1) * 1_048_576)],
  }));
  return Buffer.from(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
}
