import { request } from 'node:http';

/** A REST call as a client makes it; a string or Buffer body is sent as given, byte for byte. */
export interface RestCall {
  token?: string;
  body?: string | Buffer | object;
  /** Defaults to application/json when there is a body; null sends none. */
  contentType?: string | null;
  headers?: Record<string, string>;
}

export interface RestReply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** node:http rather than fetch: it also sends bodies on GET and DELETE, as curl can. */
export function restCall(
  baseUrl: string,
  method: string,
  path: string,
  call: RestCall = {},
): Promise<RestReply> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  let body: Buffer | undefined;
  if (call.body !== undefined) {
    body = Buffer.isBuffer(call.body)
      ? call.body
      : Buffer.from(typeof call.body === 'string' ? call.body : JSON.stringify(call.body));
    if (call.contentType !== null) headers['content-type'] = call.contentType ?? 'application/json';
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {}
        const replyHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) replyHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
        }
        resolve({ status: res.statusCode ?? 0, headers: replyHeaders, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Calls bound to one token: `as(token)('GET', '/tenants')`. */
export const restAs =
  (baseUrl: string, token: string) =>
  (method: string, path: string, c: RestCall = {}) =>
    restCall(baseUrl, method, path, { token, ...c });

/** Signs up a fresh organisation (free plan) over REST; returns its owner's token and email. */
export async function restSignup(baseUrl: string, name: string, password: string) {
  const email = `owner-${Math.random().toString(36).slice(2, 12)}@example.com`;
  const reply = await restCall(baseUrl, 'POST', '/auth/signup', {
    body: { organisation_name: name, email, password },
  });
  if (reply.status !== 201) throw new Error(`signup failed: ${reply.text}`);
  return { token: reply.json.token as string, email };
}
