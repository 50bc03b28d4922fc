import { createServer } from 'node:http';

/** Baseline: the least a verify endpoint can do: 200 with one header. */
const server = createServer((_req, res) => {
  res.writeHead(200, { 'x-scope-orgid': 'xs_bench_aaaaaaaa', 'content-length': 0 });
  res.end();
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object')
    console.log(`listening on http://127.0.0.1:${address.port}`);
});
// A clean exit on the bench's SIGTERM, so --cpu-prof (BENCH_PROFILE_ALL) writes its profile.
process.on('SIGTERM', () => process.exit(0));
