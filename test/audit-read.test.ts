import { count as count_, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { recordAudit } from '../src/modules/audit/audit.service.ts';
import { createAuditRetention } from '../src/modules/audit/audit-retention.ts';
import { useTestServer } from './helpers/app.ts';
import {
  createApiKey,
  createTenant,
  PASSWORD,
  signupOrg,
  uniqueEmail,
} from './helpers/factories.ts';
import { restCall } from './helpers/rest.ts';

/**
 * Reading the log: auditEvents (GraphQL) and GET /audit-events (REST) for owners and admins,
 * newest first, filtered and paged, never another organisation's; nothing changes an event;
 * AUDIT_RETENTION_DAYS prunes in bounded batches by the injected clock.
 */
const T0 = new Date('2026-06-18T10:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const clock = new ManualClock(T0);
const server = useTestServer({
  env: { AUDIT_RETENTION_DAYS: '30', JWT_TTL_S: '86400', SESSION_MAX_AGE_S: '2592000' },
  overrides: { clock },
});

const EVENTS = `query($first: Int, $after: String, $action: AuditAction, $actorId: ID,
  $objectType: AuditObjectType, $objectId: ID, $from: DateTime, $to: DateTime) {
  auditEvents(first: $first, after: $after, action: $action, actorId: $actorId,
    objectType: $objectType, objectId: $objectId, from: $from, to: $to) {
    edges { cursor node { id at action outcome actorId objectType objectId sourceAddress } }
    pageInfo { hasNextPage endCursor }
  } }`;

const events = (token: string, vars: Record<string, unknown> = {}) =>
  server().gql(EVENTS, vars, token);
const nodes = (res: Awaited<ReturnType<typeof events>>) => {
  expect(res.errors).toBeUndefined();
  return res.data.auditEvents.edges.map((e: { node: any }) => e.node);
};
const rest = (token: string, query = '') =>
  restCall(server().url, 'GET', `/audit-events${query}`, { token });

async function addUser(owner: string, role: 'admin' | 'viewer') {
  const email = uniqueEmail(role);
  await server().gql(
    `mutation($e: String!, $p: String!, $r: Role!) { createUser(email: $e, password: $p, role: $r) { __typename } }`,
    { e: email, p: PASSWORD, r: role },
    owner,
  );
  const res = await server().gql(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token user { id } } } }`,
    { e: email, p: PASSWORD },
  );
  return { token: res.data.login.token as string, userId: res.data.login.user.id as string };
}

// One organisation with a known history, one foreign one.
let a: Awaited<ReturnType<typeof signupOrg>>;
let b: Awaited<ReturnType<typeof signupOrg>>;
let admin: Awaited<ReturnType<typeof addUser>>;
let viewer: Awaited<ReturnType<typeof addUser>>;
let tenantA1 = '';
let tenantA2 = '';
let tenantB = '';

describe('reading the audit log', () => {
  it('setup: a history at known times', async () => {
    a = await signupOrg(server(), 'Read A'); // T0
    admin = await addUser(a.token, 'admin'); // T0: user.created, auth.login
    viewer = await addUser(a.token, 'viewer'); // T0: user.created, auth.login
    clock.set(new Date(T0.getTime() + HOUR));
    tenantA1 = (await createTenant(server(), a.token, { displayName: 'First' })).id;
    clock.set(new Date(T0.getTime() + 2 * HOUR));
    tenantA2 = (await createTenant(server(), admin.token, { displayName: 'Second' })).id;
    await createApiKey(server(), admin.token, tenantA2);
    clock.set(new Date(T0.getTime() + 3 * HOUR));
    b = await signupOrg(server(), 'Read B');
    tenantB = (await createTenant(server(), b.token, { displayName: 'Foreign' })).id;
  });

  it('owners and admins read their organisation’s events, newest first; viewers are refused on both doors', async () => {
    const all = nodes(await events(a.token, { first: 100 }));
    expect(all.map((e: any) => e.action)).toEqual([
      'api_key_created',
      'tenant_created',
      'tenant_created',
      'auth_login',
      'user_created',
      'auth_login',
      'user_created',
      'auth_signup',
    ]);
    const times = all.map((e: any) => Date.parse(e.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect(nodes(await events(admin.token, { first: 100 }))).toEqual(all);
    expect(all[1]).toMatchObject({
      action: 'tenant_created',
      outcome: 'success',
      actorId: admin.userId,
      objectType: 'tenant',
      objectId: tenantA2,
      sourceAddress: '127.0.0.1',
      at: '2026-06-18T12:00:00Z',
    });

    const refused = await events(viewer.token);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const restRefused = await rest(viewer.token);
    expect(restRefused.status).toBe(403);
    expect(restRefused.json).toMatchObject({ error: 'forbidden' });
    // Without a token: unauthenticated.
    expect((await restCall(server().url, 'GET', '/audit-events')).status).toBe(401);
    expect((await server().gql(EVENTS, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    // The REST door: the same events, snake_case.
    const r = await rest(a.token, '?limit=100');
    expect(r.status).toBe(200);
    expect(r.json.next_cursor).toBeNull();
    expect(r.json.events.map((e: any) => e.id)).toEqual(all.map((e: any) => e.id));
    expect(r.json.events[1]).toEqual({
      id: all[1].id,
      at: '2026-06-18T12:00:00Z',
      action: 'tenant.created',
      outcome: 'success',
      actor_id: admin.userId,
      object_type: 'tenant',
      object_id: tenantA2,
      source_address: '127.0.0.1',
    });
  });

  it('another organisation’s events are never visible, not even by filtering on its IDs', async () => {
    const mine = nodes(await events(a.token, { first: 100 }));
    const theirs = nodes(await events(b.token, { first: 100 }));
    expect(theirs.map((e: any) => e.action)).toEqual(['tenant_created', 'auth_signup']);
    const ids = new Set(mine.map((e: any) => e.id));
    expect(theirs.some((e: any) => ids.has(e.id))).toBe(false);
    expect(nodes(await events(a.token, { objectId: tenantB }))).toEqual([]);
    expect(nodes(await events(a.token, { objectType: 'tenant', objectId: tenantB }))).toEqual([]);
    expect(nodes(await events(a.token, { actorId: b.userId }))).toEqual([]);
    expect((await rest(a.token, `?object_id=${tenantB}`)).json.events).toEqual([]);
    expect((await rest(a.token, `?actor_id=${b.userId}`)).json.events).toEqual([]);
    // A cursor taken from B's list pages through A's own events only.
    const bPage = await events(b.token, { first: 1 });
    const foreignCursor = bPage.data.auditEvents.pageInfo.endCursor;
    const after = nodes(await events(a.token, { first: 100, after: foreignCursor }));
    expect(after.every((e: any) => ids.has(e.id))).toBe(true);
  });

  it('filters by action, actor, object and time range (bounds included)', async () => {
    const created = nodes(await events(a.token, { action: 'tenant_created' }));
    expect(created.map((e: any) => e.objectId)).toEqual([tenantA2, tenantA1]);
    expect(
      nodes(await events(a.token, { actorId: admin.userId })).map((e: any) => e.action),
    ).toEqual(['api_key_created', 'tenant_created', 'auth_login']);
    expect(
      nodes(await events(a.token, { objectType: 'tenant', objectId: tenantA1 })).map(
        (e: any) => e.action,
      ),
    ).toEqual(['tenant_created']);
    expect(nodes(await events(a.token, { objectType: 'api_key' }))).toHaveLength(1);
    const hour1 = nodes(
      await events(a.token, { from: '2026-06-18T11:00:00Z', to: '2026-06-18T11:00:00Z' }),
    );
    expect(hour1.map((e: any) => e.objectId)).toEqual([tenantA1]);
    const fromHour1 = nodes(await events(a.token, { from: '2026-06-18T11:00:00Z' }));
    expect(fromHour1.map((e: any) => e.action)).toEqual([
      'api_key_created',
      'tenant_created',
      'tenant_created',
    ]);
    const untilT0 = nodes(await events(a.token, { to: '2026-06-18T10:30:00Z' }));
    expect(untilT0).toHaveLength(5);
    // REST: the same filters in snake_case, with the dotted action names.
    const r = await rest(
      a.token,
      `?action=tenant.created&actor_id=${admin.userId}&from=2026-06-18T11:30:00Z&to=2026-06-18T12:00:00Z`,
    );
    expect(r.status).toBe(200);
    expect(r.json.events.map((e: any) => e.object_id)).toEqual([tenantA2]);
  });

  it('pages newest first without gaps or repeats, also among events of the same instant', async () => {
    const all = nodes(await events(a.token, { first: 100 })).map((e: any) => e.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await events(a.token, { first: 3, after });
      seen.push(...nodes(res).map((e: any) => e.id));
      const { hasNextPage, endCursor } = res.data.auditEvents.pageInfo;
      if (!hasNextPage) break;
      after = endCursor;
    }
    expect(seen).toEqual(all);

    const restSeen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res = await rest(a.token, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.json.events.length).toBeLessThanOrEqual(2);
      restSeen.push(...res.json.events.map((e: any) => e.id));
      cursor = res.json.next_cursor;
      if (!cursor) break;
    }
    expect(restSeen).toEqual(all);
    // first defaults to 20 and a larger one is served as 100: never an error.
    expect(nodes(await events(a.token, { first: 100_000 }))).toHaveLength(all.length);
  });

  it('bad filters get clear errors on both doors', async () => {
    const bad = async (vars: Record<string, unknown>) => (await events(a.token, vars)).errors?.[0];
    expect(await bad({ from: '2026-06-18T12:00:00Z', to: '2026-06-18T11:00:00Z' })).toMatchObject({
      message: 'from: must not be after to',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect((await bad({ from: 'yesterday' }))?.message).toMatch(/DateTime/);
    expect((await bad({ action: 'tenant.exploded' }))?.message).toMatch(/AuditAction/);
    expect(await bad({ after: 'not-a-cursor' })).toMatchObject({
      message: 'after: is not a cursor of this list',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect((await bad({ first: 0 }))?.message).toBe('first: must be at least 1');
    const last = await server().gql('{ auditEvents(last: 2) { edges { cursor } } }', {}, a.token);
    expect(last.errors?.[0]?.message).toBe('last: only forward paging: use first and after');

    const cases: [string, RegExp][] = [
      ['?from=2026-06-18T12:00:00Z&to=2026-06-18T11:00:00Z', /^from: must not be after to$/],
      ['?from=yesterday', /^from: must be an RFC 3339 date-time/],
      ['?action=tenant.exploded', /^action: must be one of auth\.signup, /],
      ['?object_type=planet', /^object_type: must be one of organisation, user, tenant, api_key$/],
      ['?cursor=not-a-cursor', /^cursor: is not a cursor of this list$/],
      ['?limit=0', /^limit: must be at least 1$/],
      ['?limit=ten', /^limit: must be a number$/],
      ['?actor_id=', /^actor_id: must not be empty$/],
      ['?sort=oldest', /^sort: unknown query parameter$/],
    ];
    for (const [query, message] of cases) {
      const res = await rest(a.token, query);
      expect(res.status, query).toBe(400);
      expect(res.json.error, query).toBe('validation_error');
      expect(res.json.message, query).toMatch(message);
    }
  });

  it('no door changes an event; the table refuses updates and deletes', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await restCall(server().url, method, '/audit-events', { token: a.token });
      expect(res.status, method).toBe(405);
    }
    const mutations = await server().gql('{ __type(name: "Mutation") { fields { name } } }');
    const names = mutations.data.__type.fields.map((f: { name: string }) => f.name);
    expect(names.filter((n: string) => /audit/i.test(n))).toEqual([]);

    const { db } = server().database;
    await expect(db.execute(sql`update audit_events set outcome = 'failure'`)).rejects.toThrow();
    await expect(db.execute(sql`delete from audit_events`)).rejects.toThrow();
    expect(nodes(await events(a.token, { first: 100 }))).toHaveLength(8);
  });

  it('a page holds at most 100 events, whatever first or limit asks', async () => {
    const c = await signupOrg(server(), 'Read C');
    const orgId = (await server().gql('{ organisation { id } }', {}, c.token)).data.organisation.id;
    const actor = { organisationId: orgId, userId: c.userId };
    for (let i = 0; i < 105; i++) {
      const object = { type: 'tenant', id: `xs_cap_${i}` } as const;
      await recordAudit(
        server().database.db,
        actor,
        'tenant.updated',
        object,
        new Date(clock.now().getTime() + 1 + i),
      );
    }
    const page = await events(c.token, { first: 1000 });
    expect(nodes(page)).toHaveLength(100);
    expect(nodes(page)[0].objectId).toBe('xs_cap_104');
    expect(page.data.auditEvents.pageInfo.hasNextPage).toBe(true);
    expect(nodes(await events(c.token))).toHaveLength(20);
    const r = await rest(c.token, '?limit=1000');
    expect(r.json.events).toHaveLength(100);
    const rest2 = await rest(c.token, `?limit=1000&cursor=${r.json.next_cursor}`);
    // The other 5 updates, then the signup.
    expect(rest2.json.events.map((e: any) => e.action)).toEqual([
      ...Array(5).fill('tenant.updated'),
      'auth.signup',
    ]);
    expect(rest2.json.next_cursor).toBeNull();
  });

  it('retention: events older than AUDIT_RETENTION_DAYS go, in bounded batches, by the clock', async () => {
    const { app } = server();
    const { db } = server().database;
    const actor = { organisationId: 'org_retention', userId: 'usr_retention' };
    const ago = (days: number) => new Date(T0.getTime() - days * DAY);
    // Old events of another organisation, and one exactly at the cutoff once the clock is T0.
    for (let i = 0; i < 7; i++) {
      await recordAudit(
        db,
        actor,
        'tenant.created',
        { type: 'tenant', id: `xs_old_${i}` },
        ago(40 + i),
      );
    }
    await recordAudit(db, actor, 'tenant.created', { type: 'tenant', id: 'xs_edge' }, ago(30));
    clock.set(T0);
    const count = async () =>
      (
        await db
          .select({ n: count_() })
          .from(auditEvents)
          .where(eq(auditEvents.organisationId, 'org_retention'))
      )[0]?.n;
    expect(await count()).toBe(8);

    // 2 rows per statement, 2 statements per run: a backlog drains over runs.
    const small = createAuditRetention(app.deps, app.database, app.services.audit, {
      batch: 2,
      maxBatches: 2,
    });
    expect(await small.runOnce()).toEqual({ pruned: 4 });
    expect(await count()).toBe(4);
    expect(await small.runOnce()).toEqual({ pruned: 3 });
    expect(await small.runOnce()).toEqual({ pruned: 0 });
    // The event exactly AUDIT_RETENTION_DAYS old stays; organisation A's (hours old) too.
    expect(await count()).toBe(1);
    expect(nodes(await events(a.token, { first: 100 }))).toHaveLength(8);

    // 31 days later, A's history is past the retention and the app's own job removes it.
    clock.set(new Date(T0.getTime() + 31 * DAY));
    expect(await app.auditRetention.runOnce()).toEqual({ pruned: expect.any(Number) });
    expect(await count()).toBe(0);
    const login = await server().gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
      { e: a.email, p: PASSWORD },
    );
    const fresh = nodes(await events(login.data.login.token, { first: 100 }));
    expect(fresh.map((e: any) => e.action)).toEqual(['auth_login']);

    // 0 keeps everything.
    const forever = createAuditRetention(
      {
        ...app.deps,
        config: { ...app.deps.config, audit: { retentionDays: 0, pruneIntervalSeconds: 3600 } },
      },
      app.database,
      app.services.audit,
    );
    expect(await forever.runOnce()).toBe('disabled');
  });
});
