import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  retryAfter: string | null;
  json: any;
}

export interface From {
  /** Sent as X-Forwarded-For (believed only when the peer is a trusted proxy). */
  forwardedFor?: string;
  /** The socket's own source address (any 127.x.y.z reaches a server on 127.0.0.1). */
  localAddress?: string;
  token?: string;
  headers?: Record<string, string>;
}

// Enough sockets for 50 requests in flight at once: the concurrency is real, not queued here.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** A JSON POST as a client sends it, from a chosen source address. */
export function postJson(baseUrl: string, path: string, body: unknown, from: From = {}) {
  const payload = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {
    ...from.headers,
    'content-type': 'application/json',
    'content-length': String(payload.length),
  };
  if (from.forwardedFor) headers['x-forwarded-for'] = from.forwardedFor;
  if (from.token) headers.authorization = `Bearer ${from.token}`;
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      new URL(path, baseUrl),
      {
        method: 'POST',
        headers,
        // A socket bound to another source address cannot be shared through the pool.
        ...(from.localAddress ? { localAddress: from.localAddress, agent: false } : { agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: retryAfter ?? null, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export const LOGIN_GQL = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  __typename ... on RateLimitedError { retryAfterSeconds message } ... on Error { message } } }`;

export const restLogin = (url: string, email: string, password: string, from?: From) =>
  postJson(url, '/auth/login', { email, password }, from);

export const gqlLogin = (url: string, email: string, password: string, from?: From) =>
  postJson(url, '/graphql', { query: LOGIN_GQL, variables: { e: email, p: password } }, from);

/** What a login answer says, whichever door: evaluated (ok, invalid) or not (limited, busy). */
export function outcome(reply: Reply): 'ok' | 'invalid' | 'limited' | 'busy' | string {
  if (reply.status === 200 && reply.json?.token) return 'ok';
  if (reply.status === 401) return 'invalid';
  if (reply.status === 429) return 'limited';
  if (reply.status === 503) return 'busy';
  const login = reply.json?.data?.login;
  if (login?.__typename === 'AuthPayload') return 'ok';
  if (login?.__typename === 'InvalidCredentialsError') return 'invalid';
  if (login?.__typename === 'RateLimitedError') return 'limited';
  if (reply.json?.errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE') return 'busy';
  return `unexpected ${reply.status} ${JSON.stringify(reply.json)}`;
}

export function tally(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of replies) {
    const o = outcome(r);
    counts[o] = (counts[o] ?? 0) + 1;
  }
  return counts;
}

/** A GraphQL operation over POST from a chosen source; the JSON body and status. */
export const gqlFrom = (
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  from?: From,
) => postJson(url, '/graphql', { query, variables }, from);
