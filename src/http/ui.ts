import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../lib/package-root.ts';
import type { Route } from './server.ts';
import { regularFile, safeFilePath, sendFile } from './static-files.ts';

/** Where `npm run ui:build` (run by npm install's `prepare`) writes the browser UI. */
export const DEFAULT_UI_DIR = join(PACKAGE_ROOT, 'dist', 'ui');
export const UI_PATH = '/ui/';

/**
 * The UI's policy: its own scripts and styles only (the build emits no inline script or style),
 * API calls and the graphql-ws socket to the same origin, never framed.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** On every answer under /ui/, errors and redirects included. */
export const UI_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': UI_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
const TEXT = 'text/plain; charset=utf-8';

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...UI_SECURITY_HEADERS,
    'content-type': TEXT,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(text);
}

function redirect(res: ServerResponse, location: string): void {
  sendText(res, 302, `Moved to ${location}\n`, { location });
}

/**
 * `/` and `/ui` lead to `/ui/`. Under `/ui/`: a built file if there is one (hashed `assets/` are
 * immutable, the rest revalidates), otherwise `index.html` for the client router's routes; an
 * unknown `assets/` file is a 404, never the page.
 */
export function uiRoutes(options: { dir?: string } = {}): Route[] {
  const dir = options.dir ?? DEFAULT_UI_DIR;
  const indexPath = join(dir, 'index.html');

  const serveIndex = async (req: IncomingMessage, res: ServerResponse) => {
    const index = await regularFile(indexPath);
    if (!index) {
      sendText(
        res,
        503,
        'The portal UI is not built: run `npm run ui:build` (npm install runs it), then reload.\n' +
          'The GraphQL API works without it at /graphql.\n',
      );
      return;
    }
    await sendFile(req, res, indexPath, index, {
      cacheControl: REVALIDATE,
      headers: UI_SECURITY_HEADERS,
    });
  };

  const handler = async (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, `${req.method} is not allowed here; use GET or HEAD.\n`, {
        allow: 'GET, HEAD',
      });
      return;
    }
    const rest = pathname.slice(UI_PATH.length);
    if (rest === '' || rest === 'index.html') return serveIndex(req, res);
    const segments = rest.split('/');
    let file: string | null;
    try {
      file = safeFilePath(dir, segments);
    } catch {
      sendText(res, 400, 'Malformed path.\n');
      return;
    }
    // Compressed siblings are chosen by Accept-Encoding, not asked for by name.
    if (!file || /\.(br|gz)$/.test(file)) {
      sendText(res, 404, 'Not found.\n');
      return;
    }
    const found = await regularFile(file);
    if (found) {
      await sendFile(req, res, file, found, {
        cacheControl: segments[0] === 'assets' ? IMMUTABLE : REVALIDATE,
        headers: UI_SECURITY_HEADERS,
      });
      return;
    }
    if (segments[0] === 'assets') {
      sendText(res, 404, 'Not found.\n');
      return;
    }
    await serveIndex(req, res); // a client route: /ui/tenants/<id>, /ui/usage, ...
  };

  return [
    { path: '/', door: 'ui', handler: (_req, res) => redirect(res, UI_PATH) },
    { path: '/ui', door: 'ui', handler: (_req, res) => redirect(res, UI_PATH) },
    { path: UI_PATH, door: 'ui', handler: (req, res, url) => handler(req, res, url.pathname) },
  ];
}
