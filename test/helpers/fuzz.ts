import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';

/** Code points, not UTF-16 units: a lone surrogate is a different test (invalid UTF-8 bodies). */
const JUNK = Array.from(
  'abcXYZ019 _-.:/\\"\'{}[]()!$@#%&*=+,;<>?|`~\u0000\t\n\u00e9\u2028\u{1f600}',
);

/** mulberry32: a tiny seeded generator, so a failing run can be replayed from its seed. */
export function seededRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    chance: (p: number) => next() < p,
    /** Printable junk, sometimes with quotes, braces, control and astral characters. */
    junk(length: number): string {
      let s = '';
      for (let i = 0; i < length; i++) s += JUNK[int(JUNK.length)];
      return s;
    },
    /** Junk that may go in a header value: visible ASCII and spaces only. */
    headerJunk(length: number): string {
      let s = '';
      for (let i = 0; i < length; i++) s += String.fromCharCode(0x20 + int(0x5f));
      return s.trim() || 'x';
    },
  };
}
export type Random = ReturnType<typeof seededRandom>;

export interface FuzzRequest {
  /** The class of mistake, reported per class. */
  kind: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface FuzzReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** One request over node:http (keep-alive), body sent byte for byte. */
export function send(baseUrl: string, req: FuzzRequest): Promise<FuzzReply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const r = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** A request written as raw bytes on a fresh socket: methods and request lines node:http won't send. */
export function sendRaw(baseUrl: string, raw: string | Buffer): Promise<FuzzReply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of head.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, text: rest.join('\r\n\r\n') });
    });
    // Connection: close in the request makes the server close its side after answering.
    socket.write(raw);
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
  });
}

export function closeFuzzAgent(): void {
  agent.destroy();
}
