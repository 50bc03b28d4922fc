import { beforeAll, describe, expect, it } from 'vitest';
import { seedTrainingOrganisation, TRAINING } from '../scripts/demo-seed.ts';
import { useTestServer } from './helpers/app.ts';
import { guideSections, jsonValues, runShell, substitute } from './helpers/guide.ts';
import { bearer, verifyRequest } from './helpers/http.ts';

/**
 * The guide's commands, run as the shell commands they are (bash, curl, jq) against a real
 * server whose database holds the demo's training organisation.
 */
const TENANT_ID_FORMAT = /^xs_[a-z0-9]+_[a-z2-7]{8}$/;
const guide = guideSections();
const section = (name: string) => {
  const script = guide.get(name);
  if (!script) throw new Error(`no guide section ${name}`);
  return script;
};

const server = useTestServer();
let jwt = '';

beforeAll(async () => {
  await seedTrainingOrganisation(server().app.services, server().app.config);
  const res = await fetch(`${server().url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: TRAINING.email, password: TRAINING.password }),
  });
  jwt = ((await res.json()) as { token: string }).token;
});

async function rest(path: string) {
  const res = await fetch(`${server().url}${path}`, {
    headers: { authorization: `Bearer ${jwt}` },
  });
  return { status: res.status, text: await res.text() };
}

/** Runs a guide section with PORTAL_BASE and JWT_TOKEN set, as a reader's shell would have them. */
async function run(script: string, extra: Record<string, string> = {}, shell?: 'bash' | 'dash') {
  const result = await runShell(
    script,
    { PORTAL_BASE: server().url, JWT_TOKEN: jwt, ...extra },
    shell,
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('Exercise 4.1: tenant lifecycle', () => {
  it('runs verbatim and passes the Validation checks', async () => {
    const exercise = substitute(
      section('exercise-4.1'),
      'export PORTAL_BASE="https://portal.xscalerlabs.com"',
      `export PORTAL_BASE="${server().url}"`,
    );
    const result = await runShell(exercise, {});
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(8);

    // Three tenants created (prod, staging, dev), IDs in the documented format.
    const ids = lines.slice(0, 3).map((l) => JSON.parse(l) as string);
    for (const id of ids) expect(id).toMatch(TENANT_ID_FORMAT);
    expect(new Set(ids).size).toBe(3);
    expect(lines.slice(3, 6).map((l) => JSON.parse(l))).toEqual([
      'Workshop Service prod',
      'Workshop Service staging',
      'Workshop Service dev',
    ]);
    const activeKey = lines[6]!.replace(/^Active: /, '');
    const backupKey = lines[7]!.replace(/^Backup: /, '');
    expect(activeKey).toMatch(/^xag_\w+$/);
    expect(backupKey).toMatch(/^xag_\w+$/);

    // The guide's list command shows all three tenants.
    const listed = jsonValues(await run(section('list-tenants')));
    expect(listed).toEqual(ids);

    // Two API keys on the prod tenant; the listing shows prefixes only.
    const prodTenant = ids[0]!;
    const keys = await rest(`/tenants/${prodTenant}/keys`);
    expect(keys.status).toBe(200);
    const keyList = JSON.parse(keys.text) as { display_name: string; prefix: string }[];
    expect(keyList.map((k) => k.display_name)).toEqual(['active-collector-key', 'backup-key']);
    expect(keyList.map((k) => k.prefix)).toEqual([activeKey.slice(0, 8), backupKey.slice(0, 8)]);
    expect(keys.text).not.toContain(activeKey);
    expect(keys.text).not.toContain(backupKey);
    expect(keyList.every((k) => !('key' in k))).toBe(true);

    // The usage dashboard shows 0 active series initially.
    const [summary] = jsonValues(await run(section('dashboard-summary')));
    expect(summary).toEqual({
      billing_plan: 'scale',
      active_series: 0,
      plan_max_series: 20000,
      logs_gb_this_month: 0,
      pct_used: 0,
    });

    // Both keys work; the guide's revoke commands revoke the first, which /auth/verify then refuses.
    expect((await verifyRequest(server().url, bearer(activeKey))).orgId).toBe(prodTenant);
    await run(section('revoke-key'), { TENANT_ID: prodTenant });
    const refused = await verifyRequest(server().url, bearer(activeKey));
    expect(refused.status).toBe(401);
    const backup = await verifyRequest(server().url, bearer(backupKey));
    expect(backup).toMatchObject({ status: 200, orgId: prodTenant });
  });
});

describe('the other commands of the guide', () => {
  let tenantId = '';

  it('creates a tenant with the fields of the expected response', async () => {
    const [tenant] = jsonValues(await run(section('create-tenant'))) as Record<string, string>[];
    expect(Object.keys(tenant!).slice(0, 8)).toEqual([
      'id',
      'display_name',
      'environment',
      'region',
      'metrics_host',
      'logs_host',
      'traces_host',
      'created_at',
    ]);
    expect(tenant).toMatchObject({
      display_name: 'Payment Service Production',
      environment: 'prod',
      region: 'eu-west-1',
      metrics_host: 'euw1-01.m.xscalerlabs.com',
      logs_host: 'euw1-01.l.xscalerlabs.com',
      traces_host: 'euw1-01.t.xscalerlabs.com',
    });
    expect(tenant!.id).toMatch(/^xs_payment_[a-z2-7]{8}$/);
    expect(tenant!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    tenantId = tenant!.id!;
    expect(jsonValues(await run(section('list-tenants')))).toContain(tenantId);
  });

  it('gets and updates the tenant', async () => {
    const setId = (script: string) =>
      substitute(
        script,
        'export TENANT_ID="xs_payment_ab3cd4ef"',
        `export TENANT_ID="${tenantId}"`,
      );
    const [got] = jsonValues(await run(setId(section('get-tenant')))) as Record<string, string>[];
    expect(got).toMatchObject({ id: tenantId, display_name: 'Payment Service Production' });

    const out = await run(section('update-tenant'), { TENANT_ID: tenantId });
    const [updated] = jsonValues(out) as Record<string, string>[];
    expect(updated).toMatchObject({ id: tenantId, display_name: 'Payment Service EU Production' });
    const again = JSON.parse((await rest(`/tenants/${tenantId}`)).text);
    expect(again.display_name).toBe('Payment Service EU Production');
  });

  // dash's echo expands backslash escapes (as zsh's does): the response must survive it.
  it.each(['bash', 'dash'] as const)('creates, lists and revokes a key (%s)', async (shell) => {
    // A tenant of its own: the guide revokes the tenant's first key.
    const res = await fetch(`${server().url}/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: `Keys ${shell}`, environment: 'dev' }),
    });
    const tenantId = ((await res.json()) as { id: string }).id;
    const created = await run(section('create-key'), { TENANT_ID: tenantId }, shell);
    const apiKey = /^API Key: (xag_\w+)$/m.exec(created)?.[1];
    expect(apiKey).toBeDefined();
    // `echo $KEY_RESPONSE | jq .` printed the whole response, key and client config included.
    const [shown] = jsonValues(created.slice(0, created.lastIndexOf('API Key:')));
    expect(shown).toMatchObject({ key: apiKey, display_name: 'k8s-prod-collector-1' });
    expect((await verifyRequest(server().url, bearer(apiKey!))).status).toBe(200);

    const listed = jsonValues(await run(section('list-keys'), { TENANT_ID: tenantId }, shell));
    expect(listed.at(-1)).toEqual({
      id: expect.stringMatching(/^key_/),
      display_name: 'k8s-prod-collector-1',
      prefix: apiKey!.slice(0, 8),
      created_at: expect.stringMatching(/Z$/),
    });

    await run(section('revoke-key'), { TENANT_ID: tenantId }, shell);
    expect((await verifyRequest(server().url, bearer(apiKey!))).status).toBe(401);
  });

  it('shows per-tenant usage and the plan', async () => {
    const [usage] = jsonValues(await run(section('tenant-usage'), { TENANT_ID: tenantId }));
    expect(usage).toMatchObject({
      tenant_id: tenantId,
      active_series: 0,
      logs_gb_ingested_this_month: 0,
      traces_gb_ingested_this_month: 0,
    });
    expect(jsonValues(await run(section('check-plan')))).toEqual(['scale']);
  });
});
