import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

/** Content types of what the UI build emits; anything else is served as bytes. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.webmanifest': 'application/manifest+json',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Precompressed siblings written by the build (`<file>.br`, `<file>.gz`), best first. */
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;
export type Encoding = (typeof ENCODINGS)[number]['name'];

/** The encodings a client accepts (q > 0), from its Accept-Encoding header. */
export function acceptedEncodings(header: string | undefined): Set<string> {
  const accepted = new Set<string>();
  let wildcard = false;
  const refused = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName?.trim().toLowerCase();
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    if (!(weight > 0)) {
      refused.add(name);
      continue;
    }
    if (name === '*') wildcard = true;
    else accepted.add(name === 'x-gzip' ? 'gzip' : name);
  }
  if (wildcard) {
    for (const { name } of ENCODINGS) if (!refused.has(name)) accepted.add(name);
  }
  return accepted;
}

/**
 * The file a request path names under `root`, or null when it could name anything else.
 * `segments` are the raw (percent-encoded) path segments after the mount point. Each is decoded
 * on its own, so an encoded slash or backslash cannot join segments; `.`/`..`, hidden names,
 * empty segments and NUL are refused outright, and the result must still lie inside `root`.
 * Throws URIError on malformed percent-encoding.
 */
export function safeFilePath(root: string, segments: string[]): string | null {
  const decoded: string[] = [];
  for (const raw of segments) {
    const segment = decodeURIComponent(raw);
    if (segment === '' || segment.startsWith('.')) return null;
    if (/[/\\\0]/.test(segment) || segment.includes(':')) return null;
    decoded.push(segment);
  }
  if (decoded.length === 0) return null;
  const base = resolve(root);
  const file = resolve(base, join(...decoded));
  return file.startsWith(base + sep) ? file : null;
}

export interface FileStat {
  size: number;
  mtimeMs: number;
}

/** The file's size and mtime if it is a regular file. */
export async function regularFile(path: string): Promise<FileStat | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null;
  } catch {
    return null;
  }
}

export interface ServeOptions {
  cacheControl: string;
  headers: Record<string, string>;
}

/**
 * Sends one file (GET or HEAD), choosing a precompressed sibling by Accept-Encoding, with a weak
 * ETag per variant and 304 for If-None-Match.
 */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  file: FileStat,
  options: ServeOptions,
): Promise<void> {
  const accepted = acceptedEncodings(req.headers['accept-encoding'] as string | undefined);
  let body = path;
  let stats = file;
  let encoding: Encoding | undefined;
  let hasVariants = false;
  for (const candidate of ENCODINGS) {
    const variant = await regularFile(path + candidate.suffix);
    if (!variant) continue;
    hasVariants = true;
    if (!encoding && accepted.has(candidate.name)) {
      encoding = candidate.name;
      body = path + candidate.suffix;
      stats = variant;
    }
  }
  const etag = `W/"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}${encoding ? `-${encoding}` : ''}"`;
  const headers: Record<string, string | number> = {
    ...options.headers,
    'content-type': contentTypeOf(path),
    'cache-control': options.cacheControl,
    etag,
    ...(hasVariants ? { vary: 'Accept-Encoding' } : {}),
    ...(encoding ? { 'content-encoding': encoding } : {}),
  };
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch?.split(',').some((tag) => tag.trim() === etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  let content: Buffer | undefined;
  if (req.method !== 'HEAD') {
    try {
      content = await readFile(body);
    } catch {
      res.writeHead(404, { ...options.headers, 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
      return;
    }
  }
  res.writeHead(200, { ...headers, 'content-length': content?.length ?? stats.size });
  res.end(content);
}
