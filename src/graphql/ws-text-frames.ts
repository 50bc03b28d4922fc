import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * A text message written to a WebSocket's TCP socket as one ready frame, for the live fan-out's
 * clean results (one per subscriber per sync: 10,000 in a row). `ws.send` would frame it anew,
 * encode the string and cork two writes into a writev; this writes one buffer whose payload part
 * (the shared result) was encoded once for all subscribers.
 *
 * Only done when ws has nothing of its own waiting (`bufferedAmount` 0: neither its sender, which
 * queues only while compressing, nor the TCP socket), so frames never interleave; the portal's
 * server has no permessage-deflate. Uses ws's undocumented `_socket` (there since ws 1);
 * `test/ws-text-frames.test.ts` fails if a ws upgrade changes either.
 *
 * `written` is called once the frame reached the kernel, as ws's own send callback. Returns false
 * when it wrote nothing (the caller sends through ws instead).
 */
export function writeTextFrame(
  socket: WebSocket,
  parts: readonly Buffer[],
  written: (error?: Error | null) => void,
): boolean {
  const tcp = (socket as unknown as { _socket?: Socket })._socket;
  if (!tcp || socket.bufferedAmount !== 0) return false;
  let length = 0;
  for (const part of parts) length += part.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, text
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  let offset = header;
  for (const part of parts) offset += part.copy(frame, offset);
  tcp.write(frame, written);
  return true;
}
