import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedStripeRequest {
  method: string;
  path: string;
  /** Form fields as Stripe's client encodes them, e.g. `line_items[0][price]`. */
  form: Record<string, string>;
  query: Record<string, string>;
  authorization: string | undefined;
}

/**
 * A stand-in for the few Stripe API calls the portal makes (Checkout, Customer Portal, price
 * lookup, promotion code lookup): records each request and answers with Stripe's shapes.
 * The official client is pointed at it through STRIPE_API_URL.
 */
export class StripeFixture {
  readonly requests: RecordedStripeRequest[] = [];
  /** Promotion codes that exist: code -> id. */
  readonly promotionCodes = new Map<string, string>();
  /** Price lookup keys that exist: lookup_key -> id. */
  readonly prices = new Map<string, string>();
  /** Answer every call with this status and a Stripe error body (e.g. 500). */
  failWith: number | undefined;
  private server: Server | undefined;
  private count = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fixture');
        const recorded: RecordedStripeRequest = {
          method: req.method ?? '',
          path: url.pathname,
          form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())),
          query: Object.fromEntries(url.searchParams),
          authorization: req.headers.authorization,
        };
        this.requests.push(recorded);
        const [status, body] = this.answer(recorded);
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fixture' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private answer(r: RecordedStripeRequest): [number, unknown] {
    if (this.failWith) {
      return [this.failWith, { error: { type: 'api_error', message: 'fixture failure' } }];
    }
    const n = ++this.count;
    const list = (data: unknown[]) => ({ object: 'list', data, has_more: false, url: r.path });
    if (r.method === 'POST' && r.path === '/v1/checkout/sessions') {
      const id = `cs_test_${n}`;
      return [
        200,
        { id, object: 'checkout.session', url: `https://checkout.stripe.test/c/pay/${id}` },
      ];
    }
    if (r.method === 'POST' && r.path === '/v1/billing_portal/sessions') {
      return [
        200,
        {
          id: `bps_${n}`,
          object: 'billing_portal.session',
          url: `https://billing.stripe.test/p/session/${n}`,
        },
      ];
    }
    if (r.method === 'GET' && r.path === '/v1/prices') {
      const key = r.query['lookup_keys[0]'] ?? '';
      const id = this.prices.get(key);
      return [200, list(id ? [{ id, object: 'price', lookup_key: key }] : [])];
    }
    if (r.method === 'GET' && r.path === '/v1/promotion_codes') {
      const id = this.promotionCodes.get(r.query.code ?? '');
      return [
        200,
        list(id ? [{ id, object: 'promotion_code', code: r.query.code, active: true }] : []),
      ];
    }
    return [404, { error: { type: 'invalid_request_error', message: `no fixture for ${r.path}` } }];
  }
}
