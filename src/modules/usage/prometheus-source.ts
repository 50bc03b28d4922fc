import { z } from 'zod';

/** One number per tenant from an instant query. */
export type TenantValues = Map<string, number>;

const TENANT_LABELS = ['user', 'tenant', 'org_id'] as const;

/** The envelope only: samples are checked by isSample (zod would copy every one of them). */
const responseSchema = z.object({
  status: z.literal('success'),
  data: z.object({ resultType: z.literal('vector'), result: z.array(z.unknown()) }),
});

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * `{ metric: { <label>: <string>, ... }, value: [<number>, <string>] }`, checked in place: at
 * 50,000 tenants a per-sample zod schema cost more than the HTTP request and the JSON parse.
 */
function isSample(item: unknown): item is Sample {
  if (typeof item !== 'object' || item === null) return false;
  const { metric, value } = item as Record<string, unknown>;
  if (typeof metric !== 'object' || metric === null || Array.isArray(metric)) return false;
  for (const label in metric) {
    if (typeof (metric as Record<string, unknown>)[label] !== 'string') return false;
  }
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isFinite(value[0]) && // as z.number(): no Infinity (JSON.parse('1e999'))
    typeof value[1] === 'string'
  );
}

/** The first tenant label present, in TENANT_LABELS order. */
function tenantOf(metric: Record<string, string>): string | undefined {
  for (const label of TENANT_LABELS) {
    const tenant = metric[label];
    if (tenant !== undefined) return tenant;
  }
  return undefined;
}

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
    if (!parsed.success || !parsed.data.data.result.every(isSample)) {
      throw new UsageSourceError(
        `usage source answered an unexpected shape for ${JSON.stringify(promql)}`,
      );
    }
    const values: TenantValues = new Map();
    for (const { metric, value } of parsed.data.data.result as Sample[]) {
      const tenant = tenantOf(metric);
      const n = Number(value[1]);
      if (!tenant) continue;
      if (!Number.isFinite(n) || n < 0)
        throw new UsageSourceError(`usage source gave ${value[1]} for ${tenant}`);
      values.set(tenant, (values.get(tenant) ?? 0) + n);
    }
    return values;
  }
}
