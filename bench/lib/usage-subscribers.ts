/**
 * Load generator for bench/usage-fanout.ts, run as a child process so the subscribers' event
 * loop is not the server's. Speaks graphql-transport-ws over raw `ws` sockets and GraphQL over
 * SSE over raw TCP sockets: graphql-ws lazy clients and fetch streams are too heavy for
 * 10,000 connections. Driven over IPC (see Command); receive times are wall-clock
 * milliseconds (performance.timeOrigin + performance.now()), comparable with the parent's.
 */
import { connect } from 'node:net';
import WebSocket from 'ws';

export type Transport = 'ws' | 'sse';

export type Command =
  | {
      type: 'open';
      transport: Transport;
      url: string;
      /** Subscriber i of this process uses tokens[i % tokens.length]. */
      tokens: string[];
      count: number;
      query: string;
      /** Source address (127.0.0.x): each has its own ephemeral ports. */
      localAddress?: string;
      /** Connections opened at once by this process (default OPEN_CONCURRENCY). */
      concurrency?: number;
    }
  /** Wait until every subscriber has received `events` events (or timeoutMs passed). */
  | { type: 'collect'; events: number; timeoutMs: number }
  | { type: 'close' };

export type Reply =
  | { type: 'opened'; opened: number; failed: number; firstError?: string; ms: number }
  /** Per subscriber, when it received event number `events` (NaN: never). */
  | { type: 'collected'; receivedAt: number[]; errors: number }
  | { type: 'closed' };

/** Connections being opened at once: enough to be quick, few enough not to hit accept backlog. */
const OPEN_CONCURRENCY = 200;
/**
 * Tries per subscriber: on a loaded machine the server may not answer connection_init within
 * graphql-ws's 3 s (close 4408); the load generator tries again rather than fail the run.
 */
const OPEN_TRIES = 3;

interface Subscriber {
  /** Receive time of each `next` event, in order. */
  received: number[];
  errors: number;
  close(): void;
}

const now = () => performance.timeOrigin + performance.now();
const subscribers: Subscriber[] = [];

function send(reply: Reply): void {
  process.send!(reply);
}

/** Resolves once the server acknowledged the connection and the subscribe message is sent. */
function openWs(
  url: string,
  token: string,
  query: string,
  localAddress?: string,
): Promise<Subscriber> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', {
    perMessageDeflate: false,
    localAddress,
  });
  const subscriber: Subscriber = { received: [], errors: 0, close: () => socket.close() };
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
      );
    });
    socket.on('message', (data) => {
      const at = now();
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'next') subscriber.received.push(at);
      else if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        resolve(subscriber);
      } else if (message.type === 'ping') socket.send('{"type":"pong"}');
      else if (message.type === 'error') subscriber.errors++;
    });
    socket.once('error', reject);
    socket.once('close', (code) => reject(new Error(`closed with ${code} before ack`)));
  });
}

/** In the raw stream: an `event: next` line begins each update (never split by chunk framing). */
const NEXT_EVENT = 'event: next\n';

/**
 * Resolves once the server answered 200 with an event stream. HTTP/1.1 over a raw TCP socket,
 * the events counted by a string search: node:http's parser, chunked decoding and stream per
 * chunk cost this process several times what the server spends writing the event, so with
 * 2,000 streams the client, not the server, set the latency. A server's event is one write,
 * so one chunk; the tail kept between reads finds an event line split across TCP reads.
 */
function openSse(
  url: string,
  token: string,
  query: string,
  localAddress?: string,
): Promise<Subscriber> {
  const target = new URL(`${url}/graphql`);
  const body = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port), localAddress });
    const subscriber: Subscriber = { received: [], errors: 0, close: () => socket.destroy() };
    let head: string | undefined = '';
    let tail = '';
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `POST ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\naccept: text/event-stream\r\n` +
          `content-type: application/json\r\nauthorization: Bearer ${token}\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    socket.on('data', (chunk: string) => {
      const at = now();
      let text = tail + chunk;
      if (head !== undefined) {
        head += chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!head.startsWith('HTTP/1.1 200')) {
          socket.destroy();
          return reject(new Error(head.slice(0, head.indexOf('\r\n'))));
        }
        text = head.slice(end + 4);
        head = undefined;
        socket.on('error', () => {});
        resolve(subscriber);
      }
      for (let i = text.indexOf(NEXT_EVENT); i >= 0; i = text.indexOf(NEXT_EVENT, i + 1)) {
        subscriber.received.push(at);
      }
      if (text.includes('"errors"')) subscriber.errors++;
      tail = text.slice(-(NEXT_EVENT.length - 1));
    });
    socket.once('close', () => {
      if (head !== undefined) reject(new Error('closed before the response'));
    });
  });
}

async function openWithRetries(open: () => Promise<Subscriber>): Promise<Subscriber> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (err) {
      if (attempt >= OPEN_TRIES) throw err;
    }
  }
}

/** Opens `count` subscribers, OPEN_CONCURRENCY at a time. */
async function openAll(command: Extract<Command, { type: 'open' }>): Promise<void> {
  const started = performance.now();
  const open = command.transport === 'ws' ? openWs : openSse;
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < command.count) {
      const token = command.tokens[next % command.tokens.length]!;
      next++;
      try {
        subscribers.push(
          await openWithRetries(() =>
            open(command.url, token, command.query, command.localAddress),
          ),
        );
      } catch (err) {
        failed++;
        firstError ??= String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: command.concurrency ?? OPEN_CONCURRENCY }, worker));
  send({
    type: 'opened',
    opened: subscribers.length,
    failed,
    firstError,
    ms: performance.now() - started,
  });
}

async function collect(events: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const done = () => subscribers.every((s) => s.received.length >= events);
  while (!done() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  send({
    type: 'collected',
    receivedAt: subscribers.map((s) => s.received[events - 1] ?? Number.NaN),
    errors: subscribers.reduce((sum, s) => sum + s.errors, 0),
  });
}

process.on('message', (command: Command) => {
  if (command.type === 'open') void openAll(command);
  else if (command.type === 'collect') void collect(command.events, command.timeoutMs);
  else {
    for (const s of subscribers) s.close();
    send({ type: 'closed' });
    process.disconnect();
  }
});
