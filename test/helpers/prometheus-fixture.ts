import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureSeries {
  labels: Record<string, string>;
  value: number;
}

export type FixtureMode = 'ok' | 'http-500' | 'malformed' | 'slow' | 'not-vector';

/**
 * A stand-in for the Prometheus HTTP query API: answers /api/v1/query with the series set for
 * the metric named in the query. Records every query it received.
 */
export class PrometheusFixture {
  readonly series = new Map<string, FixtureSeries[]>();
  readonly queries: { query: string; time: string | null }[] = [];
  mode: FixtureMode = 'ok';
  slowMs = 2_000;
  private server: Server | undefined;
  url = '';

  set(metric: string, series: FixtureSeries[]): void {
    this.series.set(metric, series);
  }

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const params = new URLSearchParams(
        req.method === 'POST' ? body : (req.url ?? '').split('?')[1],
      );
      const query = params.get('query') ?? '';
      this.queries.push({ query, time: params.get('time') });
      if (this.mode === 'http-500') return void res.writeHead(500).end('internal error');
      if (this.mode === 'malformed')
        return void res.writeHead(200).end('{"status":"success","data":');
      if (this.mode === 'slow') await new Promise((r) => setTimeout(r, this.slowMs));
      if (this.mode === 'not-vector') {
        return void res
          .writeHead(200)
          .end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
      }
      const metric = [...this.series.keys()].find((m) => query.includes(m));
      const now = Date.now() / 1000;
      const result = (metric ? this.series.get(metric)! : []).map((s) => ({
        metric: s.labels,
        value: [now, String(s.value)],
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
