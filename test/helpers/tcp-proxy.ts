import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP hop between the portal and PostgreSQL that a test can cut: the network outside the
 * product. cut() drops every connection and stops listening (reconnects are refused);
 * restore() listens again on the same port. reset() aborts every connection with a TCP RST (the
 * client sees ECONNRESET, an 'error' before 'close') and keeps listening. With `connectDelayMs`,
 * each new connection starts forwarding only after that delay (a slow connect that succeeds).
 */
export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  reset(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  { connectDelayMs = 0 } = {},
): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const open = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const forward = (client: Socket) => {
        if (client.destroyed) return;
        const upstream = connect(targetPort, targetHost);
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      };
      const server = createServer((client) => {
        track(client);
        clients.add(client);
        client.on('close', () => clients.delete(client));
        if (connectDelayMs > 0) setTimeout(forward, connectDelayMs, client);
        else forward(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  let server: Server | undefined = await open(0);
  const { port } = server.address() as { port: number };
  const stop = async () => {
    const closing = server;
    server = undefined;
    if (!closing) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    port,
    cut: stop,
    reset() {
      for (const client of clients) client.resetAndDestroy();
    },
    async restore() {
      server ??= await open(port);
    },
    close: stop,
  };
}
