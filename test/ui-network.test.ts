import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { browserTestsEnabled, openPage, useBrowser } from './helpers/browser.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import { fillSignUpForm, uniqueUiEmail } from './helpers/ui.ts';

/**
 * A network drop between the browser and the portal: a TCP proxy that the test can cut (every
 * connection reset, new ones refused) and restore. The page must say it is reconnecting, and
 * come back live with its subscriptions, without a reload.
 */
class CuttableProxy {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  private cut = false;
  url = '';

  async start(target: URL): Promise<void> {
    this.server = createServer((client) => {
      if (this.cut) return client.destroy();
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  drop(): void {
    this.cut = true;
    for (const s of this.sockets) s.resetAndDestroy();
  }
  restore(): void {
    this.cut = false;
  }
  async stop(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

const enabled = browserTestsEnabled();
const fixture = new PrometheusFixture();
const proxy = new CuttableProxy();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
const clock = new ManualClock(new Date());
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url }),
  overrides: { clock },
});
const browser = useBrowser();
beforeAll(() => proxy.start(new URL(server().url)));
afterAll(() => proxy.stop());

describe.skipIf(!enabled)('a network drop', () => {
  it('shows reconnecting, then comes back live and receives the next sync', async () => {
    const { context, page } = await openPage(browser(), proxy.url);
    try {
      await page.goto(`${proxy.url}/ui/`);
      await fillSignUpForm(page, 'Flaky Network Org', uniqueUiEmail('net'));
      await page.getByRole('link', { name: 'Usage', exact: true }).click();
      const indicator = page.locator('.live-indicator');
      await expect
        .poll(() => indicator.getAttribute('data-state'), { timeout: 10_000 })
        .toBe('live');

      proxy.drop();
      await expect.poll(() => indicator.textContent(), { timeout: 10_000 }).toBe('Reconnecting');
      proxy.restore();
      await expect.poll(() => indicator.textContent(), { timeout: 30_000 }).toBe('Live');

      // The re-opened socket carries the subscription again: a sync reaches the page.
      const before = await page.getByTestId('org-synced-at').textContent();
      clock.advance(60_000);
      await server().app.usageSync.runTick();
      await expect
        .poll(() => page.getByTestId('org-synced-at').textContent(), { timeout: 5_000 })
        .not.toBe(before);
    } finally {
      await context.close();
    }
  });
});
