// Measure the portal as it is deployed: graphql-js reads NODE_ENV once, when it is first loaded,
// and outside production it adds a cross-realm check to every type test. Hence the lazy imports.
process.env.NODE_ENV ??= 'production';

/** Every benchmark by name, loaded on demand; `npm run bench -- graphql` runs only those named. */
const BENCHES: Record<string, () => Promise<unknown>> = {
  graphql: async () => (await import('./graphql.ts')).benchGraphql(),
  verify: async () => (await import('./verify.ts')).benchVerify(),
  'usage-sync': async () => (await import('./usage-sync.ts')).benchUsageSync(),
  'usage-history': async () => (await import('./usage-history.ts')).benchUsageHistory(),
  'usage-fanout': async () => (await import('./usage-fanout.ts')).benchUsageFanout(),
  'usage-alerts': async () => (await import('./usage-alerts.ts')).benchUsageAlerts(),
  ui: async () => (await import('./ui.ts')).benchUi(),
  soak: async () => (await import('./soak.ts')).benchSoak(),
  'row-sizes': async () => (await import('./row-sizes.ts')).benchRowSizes(),
};

async function main(names: string[]): Promise<void> {
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length > 0) {
    throw new Error(
      `unknown bench ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`,
    );
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHES);
  console.log(`NODE_ENV=${process.env.NODE_ENV}, node ${process.version}`);
  for (const name of selected) {
    console.log(`\n== ${name}`);
    await BENCHES[name]!();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
