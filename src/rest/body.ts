import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

/** Request bodies above this are refused with 413 (the largest valid body is about 1 KiB). */
export const MAX_BODY_BYTES = 100 * 1024;
/** An oversized body is read (and dropped) up to this size so the client sees the 413. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

/** Stripe's webhook events (invoices list their lines) may be larger than any request of ours. */
export const MAX_RAW_BODY_BYTES = 512 * 1024;

const tooLarge = (max: number) =>
  new HttpError(413, 'payload_too_large', `Request body exceeds ${max} bytes`, {
    connection: 'close',
  });

/** True when the request carries a body at all (a declared length above 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Only JSON in UTF-8: `application/json`, optionally with `charset=utf-8`. */
function checkContentType(header: string | undefined): void {
  const [type, ...params] = (header ?? '').split(';').map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  const okCharset = charset === undefined || charset.replace(/"/g, '') === 'utf-8';
  if (type !== 'application/json' || !okCharset) {
    const got = header ? JSON.stringify(header.slice(0, 100)) : '(none)';
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Content-Type ${got} is not supported: send JSON with "Content-Type: application/json"`,
    );
  }
}

async function readBytes(req: IncomingMessage, max = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_LIMIT_BYTES) throw tooLarge(max);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > DRAIN_LIMIT_BYTES) throw tooLarge(max);
    if (total <= max) chunks.push(chunk);
  }
  if (total > max) throw tooLarge(max);
  return Buffer.concat(chunks);
}

/**
 * The body's bytes exactly as sent, for routes that verify a signature over them (Stripe's
 * webhook): any content type, up to MAX_RAW_BODY_BYTES; empty when there is none.
 */
export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  if (!hasBody(req)) return Buffer.alloc(0);
  return readBytes(req, MAX_RAW_BODY_BYTES);
}

/**
 * The parsed JSON body, or undefined when the request has none (routes treat that as `{}`).
 * Checks, in order: content type (415), size (413), UTF-8 and JSON syntax (400 invalid_json).
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  checkContentType(req.headers['content-type']);
  const bytes = await readBytes(req);
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'invalid_json', 'Request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(
      400,
      'invalid_json',
      `Request body is not valid JSON: ${(err as Error).message}`,
    );
  }
}
