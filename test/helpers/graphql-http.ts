import type { TestServer } from './app.ts';

export interface RawResponse {
  status: number;
  contentType: string;
  /** The body exactly as received. */
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

/**
 * POST /graphql with full control over the body and headers (gql() always sends a well-formed
 * JSON body with a Bearer token); returns the raw text too.
 */
export async function postRaw(
  server: TestServer,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<RawResponse> {
  const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

/** A GraphQL operation as raw text, with an optional Authorization header value. */
export function postGql(
  server: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  authorization?: string,
): Promise<RawResponse> {
  return postRaw(server, JSON.stringify({ query, variables }), {
    'content-type': 'application/json',
    ...(authorization ? { authorization } : {}),
  });
}
