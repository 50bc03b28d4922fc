import { z } from 'zod';

/** One number per tenant from an instant query. */
export type TenantValues = Map<string, number>;

const TENANT_LABELS = ['user', 'tenant', 'org_id'] as const;

const responseSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        value: z.tuple([z.number(), z.string()]),
      }),
    ),
  }),
});

export class UsageSourceError extends Error {
  override name = 'UsageSourceError';
}

/**
 * Client for the Prometheus HTTP query API (Prometheus, Mimir, VictoriaMetrics). Any answer we
 * cannot fully trust (HTTP error, timeout, wrong shape, non-numeric value) is an error, so a bad
 * tick never overwrites good numbers.
 */
export class PrometheusSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async query(promql: string, at: Date): Promise<TenantValues> {
    const url = new URL(
      'api/v1/query',
      this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`,
    );
    const body = new URLSearchParams({ query: promql, time: (at.getTime() / 1000).toFixed(3) });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const reason =
        (err as Error).name === 'TimeoutError'
          ? `timed out after ${this.timeoutMs} ms`
          : String(err);
      throw new UsageSourceError(`usage source ${url.host}: ${reason}`);
    }
    const text = await res.text();
    if (!res.ok)
      throw new UsageSourceError(`usage source answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageSourceError('usage source answered with invalid JSON');
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) {
      throw new UsageSourceError(
        `usage source answered an unexpected shape for ${JSON.stringify(promql)}`,
      );
    }
    const values: TenantValues = new Map();
    for (const { metric, value } of parsed.data.data.result) {
      const tenant = TENANT_LABELS.map((l) => metric[l]).find((v) => v !== undefined);
      const n = Number(value[1]);
      if (!tenant) continue;
      if (!Number.isFinite(n) || n < 0)
        throw new UsageSourceError(`usage source gave ${value[1]} for ${tenant}`);
      values.set(tenant, (values.get(tenant) ?? 0) + n);
    }
    return values;
  }
}
