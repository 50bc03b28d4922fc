import { Agent, request } from 'node:http';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (for a portal that must come back on the same address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface Reply {
  status: number;
  connection: string | undefined;
  body: string;
}

/** One HTTP request on a keep-alive agent; rejects with the socket error (code kept). */
function send(
  url: string,
  agent: Agent | false,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, method: init.method ?? 'GET', headers: init.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException & { reused?: boolean }) => {
      err.reused = req.reusedSocket;
      reject(err);
    });
    req.end(init.body);
  });
}

interface Backend {
  url: string;
  agent: Agent;
  inRotation: boolean;
}

/**
 * What a load balancer does, in a test: spreads requests over its backends in turn on
 * keep-alive connections, takes a backend out of rotation when its /readyz fails (checked every
 * `healthCheckMs`) and back when it passes, and retries a refused connection (nothing was sent)
 * on the next backend. It retries nothing else: a reset is a failed request.
 */
export class TestBalancer {
  private readonly backends: Backend[];
  private next = 0;
  private readonly checker: NodeJS.Timeout;
  refusedRetries = 0;

  constructor(urls: string[], healthCheckMs = 100) {
    this.backends = urls.map((url) => ({
      url,
      agent: new Agent({ keepAlive: true, maxSockets: 16 }),
      inRotation: true,
    }));
    this.checker = setInterval(() => void this.checkHealth(), healthCheckMs);
  }

  private async checkHealth(): Promise<void> {
    await Promise.all(
      this.backends.map(async (backend) => {
        try {
          const reply = await send(`${backend.url}/readyz`, false);
          backend.inRotation = reply.status === 200;
        } catch {
          backend.inRotation = false;
        }
      }),
    );
  }

  private pick(): Backend {
    const live = this.backends.filter((b) => b.inRotation);
    // With every backend out, keep trying them all (as a load balancer fails open).
    const pool = live.length > 0 ? live : this.backends;
    this.next = (this.next + 1) % pool.length;
    return pool[this.next]!;
  }

  /** Sends one request; retries refused connections for up to giveUpMs. */
  async send(
    path: string,
    init: Parameters<typeof send>[2] = {},
    giveUpMs = 60_000,
  ): Promise<Reply & { backend: string }> {
    const started = performance.now();
    for (;;) {
      const backend = this.pick();
      try {
        return {
          ...(await send(`${backend.url}${path}`, backend.agent, init)),
          backend: backend.url,
        };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ECONNREFUSED' || performance.now() - started > giveUpMs) throw err;
        this.refusedRetries++;
        backend.inRotation = false;
        // Every backend refusing: one is restarting; back off a little before the next try.
        if (!this.backends.some((b) => b.inRotation)) await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  close(): void {
    clearInterval(this.checker);
    for (const backend of this.backends) backend.agent.destroy();
  }
}

export interface LoadReport {
  ok: number;
  failures: string[];
  /** Answers that closed their connection (sent while a server drained). */
  connectionClose: number;
  perBackend: Record<string, number>;
}

/**
 * `concurrency` loops sending back-to-back requests through the balancer until stop(); each
 * answer must pass `check`. `served(n)` resolves once n more requests have been answered.
 */
export function runLoad(
  balancer: TestBalancer,
  concurrency: number,
  path: string,
  init: Parameters<typeof send>[2],
  check: (reply: Reply) => boolean,
) {
  const report: LoadReport = { ok: 0, failures: [], connectionClose: 0, perBackend: {} };
  const waiters: { at: number; resolve: () => void }[] = [];
  let running = true;
  const answered = () => {
    const total = report.ok + report.failures.length;
    for (const waiter of [...waiters]) {
      if (total >= waiter.at) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const loop = async () => {
    while (running) {
      try {
        const reply = await balancer.send(path, init);
        if (reply.connection === 'close') report.connectionClose++;
        if (check(reply)) {
          report.ok++;
          report.perBackend[reply.backend] = (report.perBackend[reply.backend] ?? 0) + 1;
        } else {
          report.failures.push(`${reply.backend}: ${reply.status} ${reply.body.slice(0, 200)}`);
        }
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { reused?: boolean };
        report.failures.push(`${e.code ?? ''} ${e.message}${e.reused ? ' (reused socket)' : ''}`);
      }
      answered();
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    report,
    served(n: number): Promise<void> {
      const at = report.ok + report.failures.length + n;
      return new Promise((resolve) => {
        waiters.push({ at, resolve });
        answered();
      });
    },
    async stop(): Promise<LoadReport> {
      running = false;
      await Promise.all(loops);
      return report;
    },
  };
}
