import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import postgres from 'postgres';

export interface BaselineOptions {
  databaseUrl: string;
  /** Same pool size as the portal, so neither side gets more database parallelism. */
  poolMax: number;
  jwt: { secret: Uint8Array; issuer: string; audience: string };
}

export interface Baseline {
  url: string;
  stop(): Promise<void>;
}

/**
 * The tenants page as one statement: the organisation's first 100 live tenants (oldest first,
 * like the portal) with their keys, already serialised to the response's `edges` JSON.
 */
const EDGES_SQL = `
  select coalesce(json_agg(json_build_object('node', json_build_object(
           'id', t.id,
           'apiKeys', (select coalesce(json_agg(json_build_object('id', k.id, 'prefix', k.prefix)
                                                order by k.created_at, k.id), '[]'::json)
                       from api_keys k where k.tenant_id = t.id)))
         order by t.created_at, t.id), '[]'::json)::text as edges
  from (select id, created_at from tenants
        where organisation_id = $1 and status <> 'deleted'
        order by created_at, id limit 100) t`;

/**
 * What a careful hand-written endpoint would do for the same answer: read the body, verify the
 * bearer JWT exactly as the portal does, load the user by primary key (the portal does this per
 * request to honour password changes), run one SQL statement, send its text. No GraphQL.
 */
export async function startBaseline(options: BaselineOptions): Promise<Baseline> {
  const sql = postgres(options.databaseUrl, { max: options.poolMax, onnotice: () => {} });

  const organisationOf = async (authorization: string | undefined): Promise<string | null> => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) return null;
    const { payload } = await jwtVerify(token, options.jwt.secret, {
      algorithms: ['HS256'],
      issuer: options.jwt.issuer,
      audience: options.jwt.audience,
      requiredClaims: ['exp', 'iat', 'sub'],
    }).catch(() => ({ payload: null }));
    if (typeof payload?.sub !== 'string') return null;
    const [user] = await sql`
      select organisation_id, token_version from users where id = ${payload.sub}`;
    return user && user.token_version === payload.ver ? (user.organisation_id as string) : null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Consume the body like any real handler must (the portal parses it; this only reads it).
    for await (const _chunk of req);
    const organisationId = await organisationOf(req.headers.authorization);
    if (!organisationId) return send(res, 401, '{"errors":[{"message":"Unauthenticated"}]}');
    const [row] = await sql.unsafe(EDGES_SQL, [organisationId], { prepare: true });
    send(res, 200, `{"data":{"tenants":{"edges":${row!.edges}}}}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, '{"errors":[{"message":"Unexpected error."}]}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sql.end({ timeout: 5 });
    },
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
