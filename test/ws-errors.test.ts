import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useTestServer } from './helpers/app.ts';
import { signupOrg } from './helpers/factories.ts';

const server = useTestServer();

/** Sends connection_init and one subscribe over a raw socket; resolves with the reply to it. */
async function subscribeOnce(query: string, token: string): Promise<any> {
  const ws = new WebSocket(`${server().url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  try {
    return await new Promise((resolve, reject) => {
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            type: 'connection_init',
            payload: { authorization: `Bearer ${token}` },
          }),
        ),
      );
      ws.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'connection_ack') {
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        } else if (message.id === '1') {
          resolve(message);
        }
      });
      ws.on('close', (code) => reject(new Error(`closed with ${code} before an answer`)));
      ws.on('error', reject);
    });
  } finally {
    ws.close();
  }
}

describe('graphql-ws errors', () => {
  it.each([
    ['a syntax error', 'subscription { orgUsageUpdated { ', 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', 'subscription { orgUsageUpdated { nope } }', 'GRAPHQL_VALIDATION_FAILED'],
    [
      'a document nested too deep',
      `subscription { orgUsageUpdated(x: ${'['.repeat(200)}1${']'.repeat(200)}) { activeSeries } }`,
      'NESTING_TOO_DEEP',
    ],
  ])('%s keeps its code and carries no HTTP-only extensions', async (_name, query, code) => {
    const { token } = await signupOrg(server());
    const reply = await subscribeOnce(query, token);
    expect(reply.type).toBe('error');
    expect(reply.payload[0].extensions.code).toBe(code);
    // `http` (status and headers for Yoga's HTTP answer) means nothing on a socket.
    for (const error of reply.payload) expect(error.extensions ?? {}).not.toHaveProperty('http');
  });
});
