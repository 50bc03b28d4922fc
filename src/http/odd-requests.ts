import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionTracker } from './connections.ts';
import { sendError } from './respond.ts';

/** The methods some door of the portal answers; anything else is refused before routing. */
export const SERVED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const ALLOW = SERVED_METHODS.join(', ');
const SERVED = new Set(SERVED_METHODS);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}(?= )/;

/**
 * Answers a request whose method no door serves (TRACE, which would echo credentials back,
 * CONNECT, WebDAV, unknown tokens) with 405 and `Allow`. Not 501: a 5xx says "our fault" to
 * every error-rate alert and dashboard, and a client's odd method is not. Returns true when
 * it answered.
 */
export function refuseOddMethod(req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method ?? '';
  if (SERVED.has(method)) return false;
  const [status, code, message] = oddMethodAnswer(method);
  sendError(res, status, code, message, { allow: ALLOW });
  return true;
}

function oddMethodAnswer(method: string): [number, string, string] {
  return [405, 'method_not_allowed', `${method} is not allowed here; use ${ALLOW}`];
}

/** Parser errors node:http would answer with a bare status (or not at all), named instead. */
const PARSE_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'Request headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'payload_too_large', 'Chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'The request took too long to arrive'],
  HPE_INVALID_URL: [400, 'bad_request', 'Malformed request target'],
  HPE_INVALID_VERSION: [400, 'bad_request', 'Malformed HTTP version'],
  HPE_INVALID_HEADER_TOKEN: [400, 'bad_request', 'Invalid character in a header'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'bad_request', 'Invalid Content-Length'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [
    400,
    'bad_request',
    'Content-Length and Transfer-Encoding are both set',
  ],
  HPE_INVALID_TRANSFER_ENCODING: [400, 'bad_request', 'Invalid Transfer-Encoding'],
  HPE_INVALID_CHUNK_SIZE: [400, 'bad_request', 'Invalid chunk size'],
};

/** node:http's parser error: the chunk it was reading, and where in it the error is. */
type ParseError = NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number };

/** The line of the chunk holding the error (a pipelined chunk holds several requests). */
function requestLineAt(chunk: Buffer | undefined, at: number | undefined): string {
  if (!chunk) return '';
  const text = chunk.toString('latin1');
  const start = text.lastIndexOf('\n', Math.max(0, (at ?? 0) - 1)) + 1;
  return text.slice(start, start + 64);
}

/** A complete HTTP/1.1 answer written straight to a socket no response object owns. */
function rawJsonAnswer(status: number, code: string, message: string): string {
  const payload = JSON.stringify({ error: code, message });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(payload)}`,
    'cache-control: no-store',
    'connection: close',
    ...(status === 405 ? [`allow: ${ALLOW}`] : []),
    '',
    payload,
  ].join('\r\n');
}

/**
 * Requests node:http never hands to a route: CONNECT (it would close the socket unanswered) and
 * whatever its parser rejects (an unknown method like `FOO`, a bad header), each answered with
 * the REST error shape naming what is wrong, then closed.
 */
export function answerOddRequests(server: Server, connections: ConnectionTracker): void {
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const [status, code, message] = oddMethodAnswer('CONNECT');
    answerAndClose(socket, rawJsonAnswer(status, code, message));
  });
  server.on('clientError', (err: ParseError, socket: Duplex) => {
    if (socket.writableEnded) return; // answered already; the parser repeats its error
    if (err.code === 'ECONNRESET' || !connections.canAnswerRaw(socket)) {
      socket.destroy();
      return;
    }
    let answer = PARSE_ERRORS[err.code ?? ''];
    if (err.code === 'HPE_INVALID_METHOD') {
      const method = TOKEN.exec(requestLineAt(err.rawPacket, err.bytesParsed))?.[0];
      answer = method ? oddMethodAnswer(method) : [400, 'bad_request', 'Malformed request method'];
    }
    const [status, code, message] = answer ?? [
      400,
      'bad_request',
      `Malformed HTTP request (${err.code ?? 'parse error'})`,
    ];
    answerAndClose(socket, rawJsonAnswer(status, code, message));
  });
}

/**
 * Ends the socket after the answer, reading (and dropping) whatever the client still sends: a
 * close with unread data would reset the connection and could lose the answer.
 */
function answerAndClose(socket: Duplex, answer: string): void {
  socket.on('error', () => {});
  socket.end(answer);
  socket.resume();
  (socket as Socket).setTimeout?.(5_000, () => socket.destroy());
}
