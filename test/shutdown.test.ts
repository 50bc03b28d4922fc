import { once } from 'node:events';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { IDLE_GRACE_MS } from '../src/http/connections.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { startTestServer, type TestServer, testEnv } from './helpers/app.ts';
import { signupOrg } from './helpers/factories.ts';
import { captureLog } from './helpers/log-capture.ts';
import { subscribeSse } from './helpers/subscriptions.ts';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  socket: Socket;
}

/**
 * A GraphQL POST whose body is sent in two parts: `received` resolves once the server has the
 * request (its 'request' event), `finish()` sends the rest.
 */
function halfSentQuery(server: TestServer, token: string, agent: Agent) {
  const body = JSON.stringify({ query: '{ tenants { edges { node { id } } } }' });
  const received = once(server.app.http.server, 'request');
  let socket!: Socket;
  const req = request(`${server.url}/graphql`, {
    agent,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      authorization: `Bearer ${token}`,
    },
  });
  req.on('socket', (s) => {
    socket = s as Socket;
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, socket }),
      );
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  return { received, answer, finish: () => req.end(body.slice(10)) };
}

function get(url: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, socket: req.socket! }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the error code of a TCP connection attempt (undefined if it connects). */
function connectError(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

/**
 * A graphql-ws connection, acknowledged; `closed` resolves with the server's close code and
 * `messages` holds every message the server sent after the ack.
 */
async function openGraphQLSocket(url: string, token: string) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await once(ws, 'open');
  ws.send(
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
  );
  const [ack] = await once(ws, 'message');
  expect(JSON.parse(String(ack)).type).toBe('connection_ack');
  const messages: { type: string; id?: string }[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  return { ws, closed, messages };
}

/** Subscribers register asynchronously (after auth): wait until the feed has them. */
async function untilSubscribed(server: TestServer, count: number) {
  const feed = server.app.services.usageFeed;
  for (let i = 0; i < 500 && feed.subscriberCount < count; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(feed.subscriberCount).toBe(count);
}

const isClosed = (socket: Socket) =>
  socket.destroyed ? Promise.resolve() : once(socket, 'close').then(() => {});

describe('graceful stop', () => {
  it('lets a request in flight finish after the listener closed, answering Connection: close', async () => {
    const log = captureLog();
    const server = await startTestServer({ overrides: { logger: log.logger } });
    const org = await signupOrg(server);
    const agent = new Agent({ keepAlive: true });
    const query = halfSentQuery(server, org.token, agent);
    await query.received;

    const stopped = server.stop();
    await log.next(/^listener closed/);
    expect(await connectError(server.url)).toBe('ECONNREFUSED');
    query.finish();
    const res = await query.answer;
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.text)).toEqual({ data: { tenants: { edges: [] } } });
    await stopped;
    agent.destroy();
  });

  it('does not reset a request already sent on a connection that looked idle', async () => {
    // The clock stands still: the connection stays inside its idle grace however slow this is.
    const server = await startTestServer({ overrides: { clock: new ManualClock() } });
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (d) => {
      received += d;
    });
    const ask = () => socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    await once(socket, 'connect');
    ask();
    while (!received.endsWith('{"status":"ok"}')) await once(socket, 'data');

    // The next request leaves before stop() in the same turn: the server has not read it yet,
    // so the connection still looks idle. Destroying idle connections would reset it.
    ask();
    const stopped = server.stop();
    await once(socket, 'close');
    await stopped;
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*Connection: keep-alive/i);
    expect(answers[1]).toMatch(
      /^HTTP\/1\.1 200 OK[\s\S]*Connection: close[\s\S]*\{"status":"ok"\}$/i,
    );
  });

  it('drains for SHUTDOWN_DRAIN_S: not ready, Connection: close, idle connections closed, then WebSockets get 1001 with their subscriptions intact', async () => {
    const log = captureLog();
    const clock = new ManualClock();
    const server = await startTestServer({
      env: { SHUTDOWN_DRAIN_S: '600' },
      overrides: { logger: log.logger, clock },
    });
    const org = await signupOrg(server);
    const idleAgent = new Agent({ keepAlive: true });
    const before = await get(`${server.url}/healthz`, idleAgent);
    expect(before.headers.connection).toBe('keep-alive');
    const busyAgent = new Agent({ keepAlive: true });
    const query = halfSentQuery(server, org.token, busyAgent);
    await query.received;
    const socket = await openGraphQLSocket(server.url, org.token);
    const usage = 'subscription { orgUsageUpdated { activeSeries } }';
    socket.ws.send(JSON.stringify({ id: 'usage', type: 'subscribe', payload: { query: usage } }));
    const sse = await subscribeSse(server.url, usage, {}, org.token);
    await untilSubscribed(server, 2);

    const stopped = server.stop();
    await log.next(/^shutdown: draining/);
    // The load balancer's health check fails at once; liveness stays.
    const freshAgent = new Agent({ keepAlive: true });
    const ready = await get(`${server.url}/readyz`, freshAgent);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'draining' });
    expect(ready.headers.connection).toBe('close');
    await isClosed(ready.socket);
    expect((await get(`${server.url}/healthz`, freshAgent)).status).toBe(200);
    // Requests are still served, each on a connection that closes after it.
    const during = await get(`${server.url}/healthz`, freshAgent);
    expect(during.status).toBe(200);
    expect(during.headers.connection).toBe('close');
    await isClosed(during.socket);
    // The keep-alive connection left idle since before the stop is closed by the server once
    // its idle grace has passed (not before: see the test above).
    clock.advance(IDLE_GRACE_MS);
    server.app.http.sweepIdle();
    await isClosed(before.socket);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);

    // A second stop (a second SIGTERM) skips the rest of the delay. The listener closes, then
    // WebSockets get 1001 with the subscription still running, while a request is still in
    // flight: no `complete` first, which would make the client drop the operation instead of
    // subscribing again on the instance it reconnects to.
    void server.app.stop();
    const first = await Promise.race([
      socket.closed.then((code) => ({ code })),
      once(socket.ws, 'message').then(([data]) => ({ message: JSON.parse(String(data)) })),
    ]);
    expect(first).toEqual({ code: 1001 });
    expect(socket.messages).toEqual([]);
    expect(await connectError(server.url)).toBe('ECONNREFUSED');

    // The request in flight at the stop is answered, with Connection: close too.
    query.finish();
    const answer = await query.answer;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.text)).toEqual({ data: { tenants: { edges: [] } } });
    // The server ended the SSE stream before it waited for requests in flight: left open, the
    // stream would have held that wait for its whole limit.
    await sse.ended;
    await stopped;
    expect(log.lines.filter((line) => /still busy/.test(line.msg))).toEqual([]);
    expect(await connectError(server.url)).toBe('ECONNREFUSED');
    for (const agent of [idleAgent, busyAgent, freshAgent]) agent.destroy();
  });
});

describe('SHUTDOWN_DRAIN_S', () => {
  const drainOf = (env: Record<string, string>) => loadConfig(testEnv(env)).shutdownDrainSeconds;

  it('defaults to 10 s in production (a load balancer needs notice) and 0 elsewhere', () => {
    expect(drainOf({ NODE_ENV: 'production' })).toBe(10);
    expect(drainOf({ NODE_ENV: 'development' })).toBe(0);
    expect(drainOf({ NODE_ENV: 'test' })).toBe(0);
    expect(drainOf({ NODE_ENV: 'production', SHUTDOWN_DRAIN_S: '0' })).toBe(0);
    expect(drainOf({ SHUTDOWN_DRAIN_S: '2.5' })).toBe(2.5);
  });

  it('refuses a value that is no number of seconds, naming the variable', () => {
    for (const value of ['soon', '-1', '601']) {
      expect(() => drainOf({ SHUTDOWN_DRAIN_S: value })).toThrow(/SHUTDOWN_DRAIN_S/);
    }
  });
});
