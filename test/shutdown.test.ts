import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './helpers/app.ts';
import { signupOrg } from './helpers/factories.ts';

describe('graceful stop', () => {
  it('lets a request in flight finish before the database closes', async () => {
    const server = await startTestServer();
    const org = await signupOrg(server);
    const body = JSON.stringify({ query: '{ tenants { edges { node { id } } } }' });
    const { port } = new URL(server.url);
    // Send the headers and half the body, stop the app, then send the rest.
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/graphql',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${org.token}`,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = server.stop();
    const res = await answer;
    await stopped;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ data: { tenants: { edges: [] } } });
  });
});
