import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { acceptedEncodings } from '../http/static-files.ts';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/**
 * GraphiQL with every asset inlined (@graphql-yoga/render-graphiql): nothing comes from a CDN.
 * The page is ~9 MB, so it is rendered once, compressed once (in the thread pool), and answered
 * from memory with the tightest policy it works under (see graphiqlContentSecurityPolicy).
 */
export interface GraphiQLPage {
  html: string;
  gzip: Uint8Array<ArrayBuffer>;
  br: Uint8Array<ArrayBuffer>;
  contentSecurityPolicy: string;
  etag: string;
}

/** sha256 of each inline <script> body, as CSP source expressions. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script(?:\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    const body = match[1] ?? '';
    if (body.trim() === '') continue;
    hashes.push(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
  }
  return hashes;
}

/**
 * What GraphiQL needs, checked in Chromium (test/ui-shell.test.ts): its one inline script by
 * hash (no 'unsafe-inline' for scripts); Monaco's web workers start from blob: URLs; styles are
 * an inline <style> plus ones Monaco and GraphiQL insert at run time, so styles need
 * 'unsafe-inline'; fonts and icons are data: URLs; requests only to this origin.
 */
export function graphiqlContentSecurityPolicy(html: string): string {
  return [
    "default-src 'none'",
    `script-src ${inlineScriptHashes(html).join(' ')}`,
    'worker-src blob:',
    "style-src 'unsafe-inline'",
    'img-src data:',
    'font-src data:',
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

let renderer: Promise<(options?: GraphiQLOptions) => string> | undefined;
const pages = new Map<string, Promise<GraphiQLPage>>();

/** The module is 9 MB of JavaScript: loaded on the first GraphiQL request, not at start. */
function loadRenderer() {
  renderer ??= import('@graphql-yoga/render-graphiql').then((m) => m.renderGraphiQL);
  return renderer;
}

/** Rendered and compressed once per set of options, for the whole process. */
export function graphiqlPage(options: GraphiQLOptions = {}): Promise<GraphiQLPage> {
  const key = JSON.stringify(options);
  let page = pages.get(key);
  if (!page) {
    page = (async () => {
      const html = (await loadRenderer())(options);
      const bytes = Buffer.from(html, 'utf8');
      const [gz, br] = await Promise.all([
        gzipAsync(bytes, { level: 6 }),
        brotliAsync(bytes, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 5,
            [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        }),
      ]);
      const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
      return {
        html,
        gzip: new Uint8Array(gz),
        br: new Uint8Array(br),
        contentSecurityPolicy: graphiqlContentSecurityPolicy(html),
        etag,
      };
    })();
    page.catch(() => pages.delete(key));
    pages.set(key, page);
  }
  return page;
}

/** For createYoga's renderGraphiQL: the offline page's HTML (the plugin below sends it). */
export async function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<string> {
  return (await graphiqlPage(options)).html;
}

/**
 * Yoga answers a GraphiQL request with the HTML as a plain 200 text/html; this replaces that
 * response with the cached page, compressed as the browser accepts, with its security headers.
 * Yoga's only text/html answer is GraphiQL (the landing page is off).
 */
export function useOfflineGraphiQL(options: () => GraphiQLOptions): Plugin {
  return {
    async onResponse({ request, response, setResponse, fetchAPI }) {
      if (request.method !== 'GET' || response.headers.get('content-type') !== 'text/html') return;
      const page = await graphiqlPage(options());
      const accepted = acceptedEncodings(request.headers.get('accept-encoding') ?? undefined);
      const encoding = accepted.has('br') ? 'br' : accepted.has('gzip') ? 'gzip' : undefined;
      const etag = encoding ? `${page.etag.slice(0, -1)}-${encoding}"` : page.etag;
      const headers: Record<string, string> = {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': page.contentSecurityPolicy,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cache-control': 'no-cache',
        vary: 'Accept-Encoding',
        etag,
        ...(encoding ? { 'content-encoding': encoding } : {}),
      };
      if (request.headers.get('if-none-match') === etag) {
        setResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const body = encoding === 'br' ? page.br : encoding === 'gzip' ? page.gzip : page.html;
      setResponse(new fetchAPI.Response(body, { status: 200, headers }));
    },
  };
}
