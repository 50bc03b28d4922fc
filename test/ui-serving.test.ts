import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../src/http/server.ts';
import { DEFAULT_UI_DIR, UI_CONTENT_SECURITY_POLICY, uiRoutes } from '../src/http/ui.ts';
import { createLogger } from '../src/lib/logger.ts';
import { useTestServer } from './helpers/app.ts';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path exactly as given: fetch() would normalise `..` and encodings. */
function raw(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectSecurityHeaders(res: RawResponse) {
  expect(res.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['x-frame-options']).toBe('DENY');
}

const INDEX =
  '<!doctype html><html><head><script type="module" src="/ui/assets/app-abc123.js"></script></head><body><div id="root"></div></body></html>';
const APP_JS = `export const answer = ${JSON.stringify('x'.repeat(4000))};\n`;

/** A build as `npm run ui:build` lays it out: hashed assets with .gz and .br siblings. */
function writeFixtureBuild(dir: string) {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets/app-abc123.js'), APP_JS);
  writeFileSync(join(dir, 'assets/app-abc123.js.gz'), gzipSync(APP_JS));
  writeFileSync(join(dir, 'assets/app-abc123.js.br'), brotliCompressSync(APP_JS));
  writeFileSync(join(dir, 'assets/style-def456.css'), 'body { color: red }\n');
  writeFileSync(join(dir, 'assets/logo-0a1b2c.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  // Files next to the build that must stay out of reach.
  writeFileSync(join(dir, '..', 'secret.txt'), 'top secret');
  writeFileSync(join(dir, '.hidden'), 'hidden');
}

async function serve(dir: string): Promise<{ url: string; http: HttpServer }> {
  const http = createHttpServer(uiRoutes({ dir }), createLogger('silent'));
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`, http };
}

describe('UI files from a build', () => {
  let base: string;
  let url: string;
  let http: HttpServer;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'xs-ui-'));
    const dir = join(base, 'ui');
    writeFixtureBuild(dir);
    ({ url, http } = await serve(dir));
  });
  afterAll(async () => {
    await http.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('redirects / and /ui to /ui/', async () => {
    for (const path of ['/', '/ui']) {
      const res = await raw(url, path);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/ui/');
      expectSecurityHeaders(res);
    }
  });

  it('serves index.html at /ui/ with no-cache and the security headers', async () => {
    const res = await raw(url, '/ui/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body.toString()).toBe(INDEX);
    expectSecurityHeaders(res);
  });

  it('answers client routes with index.html', async () => {
    for (const path of [
      '/ui/usage',
      '/ui/users',
      '/ui/tenants/xs_workshop_k3v7q2ma',
      '/ui/x?y=1',
    ]) {
      const res = await raw(url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body.toString()).toBe(INDEX);
      expectSecurityHeaders(res);
    }
  });

  it('serves hashed assets immutable, with their content types', async () => {
    const cases = [
      ['/ui/assets/app-abc123.js', 'text/javascript; charset=utf-8'],
      ['/ui/assets/style-def456.css', 'text/css; charset=utf-8'],
      ['/ui/assets/logo-0a1b2c.svg', 'image/svg+xml'],
    ] as const;
    for (const [path, type] of cases) {
      const res = await raw(url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expectSecurityHeaders(res);
    }
  });

  it('negotiates brotli, gzip or identity from Accept-Encoding', async () => {
    const path = '/ui/assets/app-abc123.js';
    const br = await raw(url, path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(brotliDecompressSync(br.body).toString()).toBe(APP_JS);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);

    const gz = await raw(url, path, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(APP_JS);

    const noBr = await raw(url, path, { headers: { 'accept-encoding': 'br;q=0, *' } });
    expect(noBr.headers['content-encoding']).toBe('gzip');

    const plain = await raw(url, path, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.body.toString()).toBe(APP_JS);

    const none = await raw(url, path);
    expect(none.headers['content-encoding']).toBeUndefined();
    expect(none.body.toString()).toBe(APP_JS);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await raw(url, '/ui/assets/app-abc123.js', {
      headers: { 'accept-encoding': 'gzip' },
    });
    const head = await raw(url, '/ui/assets/app-abc123.js', {
      method: 'HEAD',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers.etag).toBe(get.headers.etag);
    const index = await raw(url, '/ui/', { method: 'HEAD' });
    expect(index.status).toBe(200);
    expect(index.body.length).toBe(0);
  });

  it('revalidates with ETag: 304 when unchanged, per encoding', async () => {
    const first = await raw(url, '/ui/', {});
    const again = await raw(url, '/ui/', {
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const gz = await raw(url, '/ui/assets/app-abc123.js', {
      headers: { 'accept-encoding': 'gzip' },
    });
    const br = await raw(url, '/ui/assets/app-abc123.js', { headers: { 'accept-encoding': 'br' } });
    expect(gz.headers.etag).not.toBe(br.headers.etag);
  });

  it('answers an unknown asset with 404, not the page', async () => {
    for (const path of [
      '/ui/assets/missing-000000.js',
      '/ui/assets/',
      '/ui/assets/app-abc123.js.gz',
    ]) {
      const res = await raw(url, path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.body.toString()).not.toContain('<html');
      expectSecurityHeaders(res);
    }
  });

  it('never serves a file outside the build', async () => {
    const attempts = [
      '/ui/../package.json',
      '/ui/../secret.txt',
      '/ui/assets/../../secret.txt',
      '/ui/%2e%2e/secret.txt',
      '/ui/%2E%2E/%2E%2E/package.json',
      '/ui/..%2fsecret.txt',
      '/ui/..%2Fsecret.txt',
      '/ui/assets%2f..%2f..%2fsecret.txt',
      '/ui/..%5csecret.txt',
      '/ui/..\\secret.txt',
      '/ui/.hidden',
      '/ui/%2ehidden',
      '/ui/assets/app-abc123.js%00.html',
      '/ui/%00',
      '/ui//etc/passwd',
      '/ui/%2fetc%2fpasswd',
      '/ui/C:%5cWindows',
      '/ui/%zz',
    ];
    for (const path of attempts) {
      const res = await raw(url, path);
      expect([400, 404], path).toContain(res.status);
      expect(res.body.toString(), path).not.toContain('top secret');
      expect(res.body.toString(), path).not.toContain('hidden');
      expect(res.body.toString(), path).not.toContain('"name"');
      expectSecurityHeaders(res);
    }
  });

  it('refuses methods other than GET and HEAD', async () => {
    const res = await raw(url, '/ui/', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expectSecurityHeaders(res);
  });
});

describe('UI not built', () => {
  it('answers 503 with what to run, instead of crashing', async () => {
    const { url, http } = await serve(join(tmpdir(), 'xs-ui-never-built', 'ui'));
    try {
      for (const path of ['/ui/', '/ui/tenants/xs_a_b']) {
        const res = await raw(url, path);
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.body.toString()).toContain('npm run ui:build');
        expectSecurityHeaders(res);
      }
      expect((await raw(url, '/ui/assets/app.js')).status).toBe(404);
    } finally {
      await http.close();
    }
  });
});

describe('the portal serves its own build', () => {
  const server = useTestServer();

  it('sends / to the UI, whose index.html loads hashed, compressed assets', async () => {
    const root = await raw(server().url, '/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/ui/');

    const index = await raw(server().url, '/ui/');
    expect(index.status).toBe(200);
    const html = index.body.toString();
    expect(html).toBe(readFileSync(join(DEFAULT_UI_DIR, 'index.html'), 'utf8'));
    // No inline script: every <script> has a src under /ui/assets/.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/ui\/assets\/[\w-]+-[\w-]{8}\.js"/);
      expect(body).toBe('');
    }
    expect(html).not.toMatch(/https?:\/\//);
    const js = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const res = await raw(server().url, js, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // The REST and GraphQL doors are untouched by the UI's routes.
    expect((await raw(server().url, '/healthz')).status).toBe(200);
    expect((await raw(server().url, '/nowhere')).status).toBe(404);
  });

  it('serves GraphiQL offline: cached, compressed, under its own CSP', async () => {
    const headers = { accept: 'text/html', 'accept-encoding': 'gzip' };
    const res = await raw(server().url, '/graphql', { headers });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const html = gunzipSync(res.body).toString();
    expect(html.length).toBeGreaterThan(1_000_000); // every asset inline
    expect(res.body.length).toBeLessThan(html.length / 3);
    // Nothing is loaded by URL: no <script src>, no stylesheet link.
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+stylesheet/);

    const csp = String(res.headers['content-security-policy']);
    const directives = Object.fromEntries(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(directives['default-src']).toBe("'none'");
    expect(directives['frame-ancestors']).toBe("'none'");
    expect(directives['connect-src']).toBe("'self'");
    // Scripts by hash only: the page's own inline script, nothing else.
    expect(directives['script-src']).toMatch(/^'sha256-[A-Za-z0-9+/]+=*'$/);
    expect(directives['script-src']).not.toContain('unsafe');
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script).digest('base64');
    expect(directives['script-src']).toBe(`'sha256-${hash}'`);

    // The same bytes again (rendered and compressed once), brotli too, and revalidation.
    const again = await raw(server().url, '/graphql', { headers });
    expect(again.body.equals(res.body)).toBe(true);
    const br = await raw(server().url, '/graphql', {
      headers: { accept: 'text/html', 'accept-encoding': 'br, gzip' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(html);
    const cached = await raw(server().url, '/graphql', {
      headers: { ...headers, 'if-none-match': String(res.headers.etag) },
    });
    expect(cached.status).toBe(304);
    const plain = await raw(server().url, '/graphql', { headers: { accept: 'text/html' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(html);
  });
});
