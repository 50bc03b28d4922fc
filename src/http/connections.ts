import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Clock, systemClock } from '../lib/clock.ts';

/**
 * How long a keep-alive connection must have been idle before a draining server closes it. One
 * idle for less is probably carrying the client's next request already (sent, not yet read):
 * closing it would reset that request. It is left open, and its next response says
 * `Connection: close` instead.
 */
export const IDLE_GRACE_MS = 1000;
const SWEEP_EVERY_MS = 100;

interface ConnectionState {
  /** Responses not yet finished on this connection (more than one when pipelined). */
  open: Set<ServerResponse>;
  idleSince: number;
}

/**
 * The HTTP connections of one server, so that a shutdown drops nothing: once draining, every
 * response closes its connection after it, and connections left idle are closed; the server is
 * settled when no HTTP connection is left. WebSockets and CONNECT tunnels leave the HTTP
 * connection set when they take over their socket.
 */
export class ConnectionTracker {
  private readonly connections = new Map<Duplex, ConnectionState>();
  private draining = false;
  private sweeper: NodeJS.Timeout | undefined;
  private onSettled: (() => void) | undefined;

  /** The clock measures idle time: tests move it instead of waiting out the grace. */
  constructor(
    server: Server,
    private readonly clock: Clock = systemClock,
  ) {
    server.on('connection', (socket: Duplex) => {
      this.connections.set(socket, { open: new Set(), idleSince: this.now() });
      socket.once('close', () => this.forget(socket));
    });
    server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => this.forget(socket));
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Responses not yet finished. */
  get inFlight(): number {
    let n = 0;
    for (const state of this.connections.values()) n += state.open.size;
    return n;
  }

  get size(): number {
    return this.connections.size;
  }

  /** Call for each request before its handler runs. */
  track(req: IncomingMessage, res: ServerResponse): void {
    const state = this.connections.get(req.socket);
    if (this.draining) res.setHeader('connection', 'close');
    if (!state) return;
    state.open.add(res);
    res.once('close', () => {
      state.open.delete(res);
      state.idleSince = this.now();
    });
  }

  /** True when no response is half-written on this connection: raw bytes would not corrupt it. */
  canAnswerRaw(socket: Duplex): boolean {
    const open = [...(this.connections.get(socket)?.open ?? [])];
    return socket.writable && !open.some((res) => res.headersSent && !res.writableEnded);
  }

  /** From now on responses close their connections; idle connections are closed. */
  beginDrain(): void {
    if (this.draining) return;
    this.draining = true;
    for (const state of this.connections.values()) {
      for (const res of state.open) if (!res.headersSent) res.setHeader('connection', 'close');
    }
    this.sweep();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
  }

  /** Resolves when no HTTP connection is left, or after timeoutMs; true when none is left. */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.connections.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.onSettled = () => resolve(true);
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.onSettled = undefined;
    return done;
  }

  /** Closes every HTTP connection left, mid-response or not. */
  destroyAll(): void {
    for (const socket of [...this.connections.keys()]) socket.destroy();
    clearInterval(this.sweeper);
  }

  /** Closes the connections idle for IDLE_GRACE_MS; while draining, runs every 100 ms. */
  sweep(): void {
    if (!this.draining) return;
    const now = this.now();
    for (const [socket, state] of this.connections) {
      if (state.open.size === 0 && now - state.idleSince >= IDLE_GRACE_MS) socket.destroy();
    }
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private forget(socket: Duplex): void {
    this.connections.delete(socket);
    if (this.connections.size === 0) this.onSettled?.();
  }
}
