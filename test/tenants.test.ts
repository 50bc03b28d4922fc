import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg } from './helpers/factories.ts';

const server = useTestServer();
const TENANT_ID = /^xs_[a-z0-9]{1,20}_[a-z2-7]{8}$/;

describe('tenants', () => {
  it('creates a tenant with the fields of the guide', async () => {
    const org = await signupOrg(server());
    const res = await server().gql(
      `mutation { createTenant(displayName: "Payment Service Production", environment: prod) {
        ... on Tenant { id displayName environment region metricsHost logsHost tracesHost createdAt } } }`,
      {},
      org.token,
    );
    const tenant = res.data.createTenant;
    expect(tenant.id).toMatch(/^xs_payment_[a-z2-7]{8}$/);
    expect(tenant).toMatchObject({
      displayName: 'Payment Service Production',
      environment: 'prod',
      region: 'eu-west-1',
      metricsHost: 'euw1-01.m.xscalerlabs.com',
      logsHost: 'euw1-01.l.xscalerlabs.com',
      tracesHost: 'euw1-01.t.xscalerlabs.com',
    });
    expect(tenant.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('lists, filters, updates and soft-deletes', async () => {
    const org = await signupOrg(server());
    const prod = await createTenant(server(), org.token, {
      displayName: 'Workshop Service prod',
      environment: 'prod',
    });
    await createTenant(server(), org.token, {
      displayName: 'Workshop Service dev',
      environment: 'dev',
    });
    expect(prod.id).toMatch(TENANT_ID);

    const list = await server().gql(
      `{ tenants(environment: prod) { edges { node { id } } } }`,
      {},
      org.token,
    );
    expect(list.data.tenants.edges.map((e: any) => e.node.id)).toEqual([prod.id]);

    const updated = await server().gql(
      `mutation($id: ID!) { updateTenant(id: $id, displayName: "Renamed") { ... on Tenant { id displayName } } }`,
      { id: prod.id },
      org.token,
    );
    expect(updated.data.updateTenant).toEqual({ id: prod.id, displayName: 'Renamed' });

    await server().gql(
      `mutation($id: ID!) { deleteTenant(id: $id) { __typename } }`,
      { id: prod.id },
      org.token,
    );
    const after = await server().gql(`{ tenants { edges { node { id } } } }`, {}, org.token);
    expect(after.data.tenants.edges).toHaveLength(1);
    const gone = await server().gql(
      `query($id: ID!) { tenant(id: $id) { __typename ... on NotFoundError { message } } }`,
      { id: prod.id },
      org.token,
    );
    expect(gone.data.tenant.__typename).toBe('NotFoundError');
  });
});
