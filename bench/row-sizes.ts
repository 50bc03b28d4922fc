import postgres from 'postgres';
import { openDatabase } from '../src/db/client.ts';
import { createScratchDatabase } from './lib/database.ts';
import { formatTable } from './lib/load.ts';

export interface RowSize {
  table: string;
  rows: number;
  /** Average pg_column_size of a whole row (the tuple's data, without its 24-byte header). */
  tupleBytes: number;
  /** pg_table_size / rows: heap pages (headers, line pointers, free space) and TOAST. */
  heapBytesPerRow: number;
  /** pg_indexes_size / rows: every index of the table. */
  indexBytesPerRow: number;
  totalBytesPerRow: number;
}

const TENANTS = Number(process.env.ROW_SIZES_TENANTS || 20_000);
const TENANTS_PER_ORG = 10;
const KEYS_PER_TENANT = 2;
/** Usage samples per tenant, written tick by tick (as the sync does) so the indexes split alike. */
const SAMPLES_PER_TENANT = 10;
const AUDIT_EVENTS_PER_TENANT = 5;

/**
 * Bytes per row of the tables that grow with organisations, tenants, keys and time, on a
 * scratch database migrated like production and filled with generated rows shaped like the
 * portal's (its ID formats, 64-hex SHA-256s, one rolled key in ten): the input of docs/scaling.md.
 */
export async function benchRowSizes(): Promise<RowSize[]> {
  const database = await createScratchDatabase('portal_bench_rows');
  try {
    // Migrates the scratch database exactly as an instance does at start.
    await (await openDatabase({ databaseUrl: database.url, pgliteDir: '', poolMax: 1 })).close();
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await generate(sql);
      await sql`vacuum analyze`;
      const sizes: RowSize[] = [];
      for (const table of [
        'organisations',
        'users',
        'tenants',
        'api_keys',
        'api_key_secrets',
        'usage_current',
        'usage_samples',
        'audit_events',
      ]) {
        const [row] = await sql.unsafe(`
          select count(*)::int as rows,
                 coalesce(avg(pg_column_size(t.*)), 0)::float8 as tuple,
                 pg_table_size('${table}')::float8 as heap,
                 pg_indexes_size('${table}')::float8 as indexes
          from ${table} t`);
        const rows = row!.rows as number;
        sizes.push({
          table,
          rows,
          tupleBytes: row!.tuple,
          heapBytesPerRow: row!.heap / rows,
          indexBytesPerRow: row!.indexes / rows,
          totalBytesPerRow: (row!.heap + row!.indexes) / rows,
        });
      }
      console.log(
        formatTable(
          ['table', 'rows', 'tuple B', 'heap B/row', 'index B/row', 'total B/row'],
          sizes.map((s) => [
            s.table,
            String(s.rows),
            s.tupleBytes.toFixed(0),
            s.heapBytesPerRow.toFixed(0),
            s.indexBytesPerRow.toFixed(0),
            s.totalBytesPerRow.toFixed(0),
          ]),
        ),
      );
      return sizes;
    } finally {
      await sql.end();
    }
  } finally {
    await database.drop();
  }
}

/** Rows generated in SQL: random parts from md5, lengths as the portal's own. */
async function generate(sql: postgres.Sql): Promise<void> {
  const orgs = Math.ceil(TENANTS / TENANTS_PER_ORG);
  const rand = (n: number, seed: string) => `substr(md5(${seed} || random()::text), 1, ${n})`;
  await sql.unsafe(`
    insert into organisations (id, name, billing_plan)
    select 'org_' || ${rand(16, 'g::text')}, 'Organisation ' || g, 'scale'
    from generate_series(1, ${orgs}) g`);
  await sql.unsafe(`
    insert into users (id, organisation_id, email, password_hash, role)
    select 'usr_' || ${rand(16, 'o.id')}, o.id, 'user' || n || '-' || o.id || '@example.com',
           'scrypt$17$8$1$' || ${rand(22, 'o.id')} || '$' || encode(sha512(o.id::bytea), 'base64'),
           case n when 1 then 'owner' else 'admin' end::user_role
    from organisations o, generate_series(1, 2) n`);
  await sql.unsafe(`
    insert into tenants (id, organisation_id, display_name, environment, region, cell)
    select 'xs_' || 'payments' || n || '_' || ${rand(8, 'o.id')}, o.id, 'Payments ' || n,
           'prod', 'eu-west-1', 'eu-west-1-c' || (n % 4)
    from organisations o, generate_series(1, ${TENANTS_PER_ORG}) n`);
  await sql.unsafe(`
    insert into api_keys (id, tenant_id, display_name, prefix, hash, scopes, created_by,
                          previous_prefix, previous_hash, previous_expires_at)
    select 'key_' || ${rand(16, 't.id')}, t.id, 'collector ' || n, 'xag_' || ${rand(4, 't.id')},
           encode(sha256((t.id || n)::bytea), 'hex'), '{metrics:write,logs:write,traces:write}',
           'usr_' || ${rand(16, 't.id')},
           case when n = 1 and random() < 0.2 then 'xag_' || ${rand(4, 't.id')} end,
           case when n = 1 and random() < 0.2 then encode(sha256((t.id || 'old')::bytea), 'hex') end,
           null
    from tenants t, generate_series(1, ${KEYS_PER_TENANT}) n`);
  await sql.unsafe(`
    update api_keys set previous_expires_at = now() + interval '1 day',
           previous_prefix = coalesce(previous_prefix, 'xag_zzzz')
    where previous_hash is not null`);
  await sql.unsafe(`
    insert into api_key_secrets (hash, key_id, grace_expires_at)
    select hash, id, null from api_keys
    union all
    select previous_hash, id, previous_expires_at from api_keys where previous_hash is not null`);
  await sql.unsafe(`
    insert into usage_current (tenant_id, active_series, logs_bytes_this_month,
                               traces_bytes_this_month, synced_at)
    select id, (random() * 1e6)::bigint, random() * 1e12, random() * 1e12, now() from tenants`);
  for (let tick = 0; tick < SAMPLES_PER_TENANT; tick++) {
    await sql.unsafe(`
      insert into usage_samples (tenant_id, at, active_series, logs_bytes_this_month,
                                 traces_bytes_this_month)
      select id, now() - interval '${tick} minutes', (random() * 1e6)::bigint, random() * 1e12,
             random() * 1e12
      from tenants`);
  }
  await sql.unsafe(`
    insert into audit_events (organisation_id, actor_id, action, object_type, object_id, outcome,
                              source_address, at)
    select t.organisation_id, 'usr_' || ${rand(16, 't.id')}, 'api_key.rolled', 'api_key',
           'key_' || ${rand(16, 't.id')}, 'success', '203.0.113.' || (n * 7 % 250),
           now() - n * interval '1 hour'
    from tenants t, generate_series(1, ${AUDIT_EVENTS_PER_TENANT}) n`);
}
