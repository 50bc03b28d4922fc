import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { writeTextFrame } from '../src/graphql/ws-text-frames.ts';

/**
 * The live fan-out writes ready text frames under ws (src/graphql/ws-text-frames.ts): real ws
 * server and client, every payload length encoding, and the fallback while ws has bytes waiting.
 * Fails if a ws upgrade drops `_socket` or what `bufferedAmount` counts.
 */
let http: Server;
let wss: WebSocketServer;
let url: string;
const accepted: WebSocket[] = [];

beforeAll(async () => {
  http = createServer();
  wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket) => accepted.push(socket));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of wss.clients) socket.terminate();
  await new Promise((resolve) => wss.close(resolve));
  await new Promise((resolve) => http.close(resolve));
});

async function connect() {
  const client = new WebSocket(url);
  const received: { text: string; binary: boolean }[] = [];
  client.on('message', (data, binary) => received.push({ text: String(data), binary }));
  const count = accepted.length;
  await new Promise((resolve) => client.once('open', resolve));
  while (accepted.length === count) await new Promise((r) => setTimeout(r, 5));
  return { client, server: accepted[accepted.length - 1]!, received };
}

const until = async (done: () => boolean) => {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('ready text frames under ws', () => {
  it('arrive as the text messages ws would send, at every length encoding, in order with ws sends', async () => {
    const { client, server, received } = await connect();
    const texts = [
      '',
      'x',
      'é'.repeat(62), // 124 bytes: the 7-bit length
      'a'.repeat(126), // the 16-bit length from here
      'ü'.repeat(40_000),
      'z'.repeat(70_000), // the 64-bit length
    ];
    const written: number[] = [];
    for (const [i, text] of texts.entries()) {
      const [head, tail] = [Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))];
      expect(writeTextFrame(server, [head, tail], () => written.push(i))).toBe(true);
      await until(() => server.bufferedAmount === 0);
    }
    server.send('through ws');
    await until(() => received.length === texts.length + 1);
    expect(received).toEqual([...texts, 'through ws'].map((text) => ({ text, binary: false })));
    expect(written).toEqual(texts.map((_, i) => i));
    client.close();
  });

  it('writes nothing while ws has bytes waiting, so frames never interleave', async () => {
    const { client, server, received } = await connect();
    // The client stops reading; a large send fills the socket's buffers.
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    server.send(Buffer.alloc(8 * 1024 * 1024, 'q').toString());
    await until(() => server.bufferedAmount > 0);
    expect(writeTextFrame(server, [Buffer.from('late')], () => {})).toBe(false);
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => received.length === 1);
    expect(received[0]!.text.length).toBe(8 * 1024 * 1024);
    client.close();
  });
});
