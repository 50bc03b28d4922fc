import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { rawRequest } from './helpers/raw-http.ts';

const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** Methods no door serves, sent over a raw TCP socket: each gets a JSON answer naming it. */
describe('odd HTTP methods', () => {
  const server = useTestServer();

  it('answers CONNECT with 405 naming the method, instead of closing the socket unanswered', async () => {
    const answer = await rawRequest(
      server().url,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    expect(answer.status, answer.raw).toBe(405);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers.allow).toBe(ALLOW);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({
      error: 'method_not_allowed',
      message: `CONNECT is not allowed here; use ${ALLOW}`,
    });
  });

  it('answers CONNECT even when the client sends tunnel bytes right after it', async () => {
    const answer = await rawRequest(
      server().url,
      Buffer.concat([
        Buffer.from('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'),
        Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]),
      ]),
    );
    expect(answer.status, answer.raw).toBe(405);
    expect(JSON.parse(answer.body).message).toMatch(/^CONNECT is not allowed/);
  });

  it('answers TRACE with 405 on every path, known or not', async () => {
    for (const path of ['/graphql', '/tenants', '/auth/verify', '/no/such/path']) {
      const answer = await rawRequest(
        server().url,
        `TRACE ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status, `${path}: ${answer.raw}`).toBe(405);
      expect(answer.headers.allow).toBe(ALLOW);
      const body = JSON.parse(answer.body);
      expect(body).toEqual({
        error: 'method_not_allowed',
        message: `TRACE is not allowed here; use ${ALLOW}`,
      });
      // TRACE would echo the request (cross-site tracing): the credential never comes back.
      expect(answer.raw).not.toContain('secret');
    }
  });

  it('answers methods the parser knows but no door serves with 405 naming the method (a 5xx would blame the portal)', async () => {
    for (const method of ['PROPFIND', 'PURGE', 'MKCOL', 'SEARCH']) {
      const answer = await rawRequest(
        server().url,
        `${method} /tenants HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status, `${method}: ${answer.raw}`).toBe(405);
      expect(answer.headers.allow).toBe(ALLOW);
      expect(JSON.parse(answer.body)).toEqual({
        error: 'method_not_allowed',
        message: `${method} is not allowed here; use ${ALLOW}`,
      });
    }
  });

  it('answers an unknown method token like FOO with 405 naming it', async () => {
    const answer = await rawRequest(server().url, 'FOO /graphql HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer.status, answer.raw).toBe(405);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({
      error: 'method_not_allowed',
      message: `FOO is not allowed here; use ${ALLOW}`,
    });
  });

  it('answers a request line that is no method at all with 400, without echoing it', async () => {
    const answer = await rawRequest(server().url, '<script> / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer.status, answer.raw).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'bad_request',
      message: 'Malformed request method',
    });
  });

  it('names other parser errors: a bad header, too large headers', async () => {
    const badHeader = await rawRequest(
      server().url,
      'GET /healthz HTTP/1.1\r\nBad Header: x\r\n\r\n',
    );
    expect(badHeader.status, badHeader.raw).toBe(400);
    expect(JSON.parse(badHeader.body)).toEqual({
      error: 'bad_request',
      message: 'Invalid character in a header',
    });
    const huge = await rawRequest(
      server().url,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(huge.status, huge.raw.slice(0, 200)).toBe(431);
    expect(JSON.parse(huge.body).error).toBe('headers_too_large');
  });

  it('still serves the usual methods, and answers a bad request after a good one on one connection', async () => {
    const answer = await rawRequest(
      server().url,
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nFOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(answer.raw).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer.raw).toContain('{"status":"ok"}');
    expect(answer.raw).toContain('HTTP/1.1 405 Method Not Allowed');
    expect(answer.raw).toContain('"FOO is not allowed here;');
  });
});
