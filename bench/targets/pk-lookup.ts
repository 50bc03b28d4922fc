import { createServer } from 'node:http';
import postgres from 'postgres';

/** Baseline: one postgres.js primary-key lookup per request, the key id in a header. */
const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.DB_POOL_MAX || 10) });
const server = createServer(async (req, res) => {
  const id = String(req.headers['x-key-id'] ?? '');
  const [row] = await sql`select tenant_id from api_keys where id = ${id}`;
  if (!row) {
    res.writeHead(401, { 'content-length': 0 }).end();
    return;
  }
  res.writeHead(200, { 'x-scope-orgid': row.tenant_id, 'content-length': 0 });
  res.end();
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object')
    console.log(`listening on http://127.0.0.1:${address.port}`);
});
// A clean exit on the bench's SIGTERM, so --cpu-prof (BENCH_PROFILE_ALL) writes its profile.
process.on('SIGTERM', () => process.exit(0));
