import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { cryptoRandom } from '../src/lib/ids.ts';
import { generateApiKey } from '../src/modules/api-keys/key-format.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { basic, bearer } from './helpers/http.ts';
import { waitFor } from './helpers/process.ts';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const hasNginx = spawnSync(NGINX, ['-v']).status === 0;
// In CI the binary must be there (.ci/run installs it): a missing nginx fails instead of skipping.
if (!hasNginx && process.env.CI)
  throw new Error(`nginx not found at ${NGINX}; .ci/run installs it`);

// nginx (on 127.0.0.1) passes the client's address in X-Forwarded-For; the portal trusts it.
const server = useTestServer({
  overrides: { clock: new ManualClock(new Date()) },
  env: {
    TRUSTED_PROXIES: '127.0.0.1',
    VERIFY_UNKNOWN_KEY_RATE: '1',
    VERIFY_UNKNOWN_KEY_BURST: '5',
  },
});

/** What reached the backend behind nginx. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe.skipIf(!hasNginx)('nginx auth_request in front of the backends', () => {
  const received: Received[] = [];
  let upstream: Server;
  let nginx: ChildProcess;
  let dir: string;
  let nginxUrl: string;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamAt = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const listen = `127.0.0.1:${await freePort()}`;
    dir = mkdtempSync(join(tmpdir(), 'xs-nginx-'));
    // The template uses envsubst-style ${NAME} placeholders.
    const values: Record<string, string> = {
      PORTAL: new URL(server().url).host,
      MIMIR: upstreamAt,
      LOKI: upstreamAt,
      TEMPO: upstreamAt,
      LISTEN: listen,
    };
    const site = readFileSync(
      new URL('../deploy/nginx-auth.conf.template', import.meta.url),
      'utf8',
    ).replace(/\$\{(\w+)\}/g, (_, name: string) => values[name] ?? '');
    writeFileSync(join(dir, 'site.conf'), site);
    writeFileSync(
      join(dir, 'xscaler-verify.conf'),
      readFileSync(new URL('../deploy/xscaler-verify.conf', import.meta.url)),
    );
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`,
    );
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    nginxUrl = `http://${listen}`;
    await waitFor(async () => {
      try {
        await fetch(`${nginxUrl}/`);
        return true;
      } catch {
        return false;
      }
    }, 10_000);
  });

  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await new Promise((r) => upstream?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const push = (
    path: string,
    authorization: string | undefined,
    extra: Record<string, string> = {},
  ) =>
    fetch(`${nginxUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
        ...(authorization ? { authorization } : {}),
        ...extra,
      },
      body: 'remote-write-payload',
    });

  it('forwards a remote_write push with basic auth and sets X-Scope-OrgID', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const before = received.length;
    // A client-sent X-Scope-OrgID must never survive: nginx replaces it with the verified one.
    const res = await push('/api/v1/push', basic(tenant.id, key.key), {
      'x-scope-orgid': 'xs_victim_aaaaaaaa',
    });
    expect(res.status).toBe(204);
    const got = received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ path: '/api/v1/push', body: 'remote-write-payload' });
    expect(got[0]!.headers['x-scope-orgid']).toBe(tenant.id);
    expect(got[0]!.headers.authorization).toBeUndefined();

    const logs = await push('/loki/api/v1/push', bearer(key.key));
    expect(logs.status).toBe(204);
    expect(received.at(-1)!.headers['x-scope-orgid']).toBe(tenant.id);
  });

  it('stops revoked, wrong-tenant, wrong-scope and garbage keys before the backend', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const other = await createTenant(server(), org.token, { displayName: 'Other' });
    const metricsOnly = await createApiKey(server(), org.token, tenant.id, {
      scopes: ['metrics:write'],
    });
    const revoked = await createApiKey(server(), org.token, tenant.id);
    await server().gql(
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: revoked.id },
      org.token,
    );
    const before = received.length;

    expect((await push('/api/v1/push', basic(tenant.id, revoked.key))).status).toBe(401);
    expect((await push('/api/v1/push', basic(other.id, metricsOnly.key))).status).toBe(401);
    expect((await push('/loki/api/v1/push', basic(tenant.id, metricsOnly.key))).status).toBe(403);
    expect((await push('/api/v1/push', bearer('xag_garbage'))).status).toBe(401);
    expect((await push('/api/v1/push', undefined)).status).toBe(401);
    expect(received.length).toBe(before);
    expect((await push('/api/v1/push', basic(tenant.id, metricsOnly.key))).status).toBe(204);
  });

  it('answers a client flooding unknown keys 429 with Retry-After; its cached key and others pass', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    // Loopback is trusted here, so the address a client names is the one the portal counts.
    const from = { 'x-forwarded-for': '203.0.113.50' };
    expect((await push('/api/v1/push', bearer(key.key), from)).status).toBe(204);
    const before = received.length;
    const unknown = () => bearer(generateApiKey(cryptoRandom));
    for (let i = 0; i < 5; i++)
      expect((await push('/api/v1/push', unknown(), from)).status).toBe(401);
    const limited = await push('/api/v1/push', unknown(), from);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(received.length).toBe(before);
    expect((await push('/api/v1/push', bearer(key.key), from)).status).toBe(204);
    const other = { 'x-forwarded-for': '203.0.113.51' };
    expect((await push('/api/v1/push', unknown(), other)).status).toBe(401);
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}
