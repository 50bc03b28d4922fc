import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscription {
  /** Resolves with the next payload ({data} or {errors}), or rejects after timeoutMs. */
  next(timeoutMs?: number): Promise<any>;
  /** Resolves when the server ended the stream (complete or error). */
  ended: Promise<void>;
  close(): void;
}

/** A queue fed by a stream, read one payload at a time. */
function queue() {
  const items: any[] = [];
  const waiters: ((v: any) => void)[] = [];
  let endResolve!: () => void;
  const ended = new Promise<void>((r) => {
    endResolve = r;
  });
  return {
    push(v: any) {
      const w = waiters.shift();
      if (w) w(v);
      else items.push(v);
    },
    end: () => endResolve(),
    ended,
    next(timeoutMs = 5_000): Promise<any> {
      if (items.length) return Promise.resolve(items.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no event within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push((v) => {
          clearTimeout(timer);
          resolve(v);
        });
      });
    },
  };
}

/** GraphQL over SSE (Yoga's distinct-connections mode): a real streaming HTTP request. */
export async function subscribeSse(
  baseUrl: string,
  query: string,
  variables: object,
  token?: string,
): Promise<Subscription> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const q = queue();
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('\n');
          if (data) q.push(JSON.parse(data));
          cut = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by close()
    }
    q.end();
  })();
  return { next: q.next, ended: q.ended, close: () => controller.abort() };
}

/** graphql-ws client over a real WebSocket, token in connectionParams. */
export function subscribeWs(
  baseUrl: string,
  query: string,
  variables: object,
  token?: string,
): Subscription {
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
  const q = queue();
  client.subscribe(
    { query, variables: variables as Record<string, unknown> },
    {
      next: (v) => q.push(v),
      error: (e) => {
        q.push({ errors: Array.isArray(e) ? e : [{ message: String((e as Error).message ?? e) }] });
        q.end();
      },
      complete: () => q.end(),
    },
  );
  return { next: q.next, ended: q.ended, close: () => void client.dispose() };
}

/**
 * graphql-transport-ws over a raw socket: next() resolves with each `next` message's exact
 * text, for tests of what the server wrote (byte for byte); `error` and `complete` end it.
 */
export function subscribeWsText(
  baseUrl: string,
  query: string,
  variables: object,
  token: string,
): Subscription {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const q = queue();
  socket.on('open', () =>
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
    ),
  );
  socket.on('message', (data) => {
    const text = String(data);
    const message = JSON.parse(text) as { type: string };
    if (message.type === 'connection_ack') {
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
    } else if (message.type === 'next') q.push(text);
    else if (message.type === 'error' || message.type === 'complete') {
      q.push(text);
      q.end();
    }
  });
  socket.on('close', () => q.end());
  return { next: q.next, ended: q.ended, close: () => socket.close() };
}
