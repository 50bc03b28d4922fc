import { expect } from 'vitest';
import { PASSWORD } from './factories.ts';
import { type RestReply, restCall } from './rest.ts';

/** A valid body per route, so one broken field at a time is what gets refused. */
export const VALID_BODIES: Record<string, Record<string, unknown>> = {
  'POST /auth/login': { email: 'nobody@example.com', password: 'x' },
  'POST /auth/signup': { organisation_name: 'Org', email: 'new@example.com', password: PASSWORD },
  'POST /auth/password': { current_password: PASSWORD, new_password: 'Another-Horse-10' },
  'POST /tenants': { display_name: 'Billing', environment: 'dev' },
  'PATCH /tenants/{id}': { display_name: 'Renamed' },
  'POST /tenants/{id}/keys': { display_name: 'collector' },
  'POST /tenants/{id}/keys/{key_id}/roll': { grace_period_seconds: 0 },
  'POST /users': { email: 'new-user@example.com', password: PASSWORD, role: 'viewer' },
  'PUT /organisation/plan': { plan: 'scale' },
  'POST /billing/checkout': { plan: 'scale' },
  'POST /billing/redeem': { key: 'NOT-A-PLAN-KEY' },
};

export interface Operation {
  method: string;
  path: string;
  secured: boolean;
  /** The JSON Schema of the request body, when the route takes one. */
  body?: { properties: Record<string, unknown> };
}

/** Every operation the server documents in /openapi.json: the matrix follows the routes. */
export async function documentedOperations(baseUrl: string): Promise<Operation[]> {
  const doc = (await restCall(baseUrl, 'GET', '/openapi.json')).json;
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      // Stripe's webhook takes bytes under a signature, not our JSON: billing-stripe.test.ts.
      if (op['x-raw-body']) continue;
      operations.push({
        method: method.toUpperCase(),
        path,
        secured: op.security.length > 0,
        body: op.requestBody?.content['application/json'].schema,
      });
    }
  }
  return operations;
}

export const validBody = (op: Pick<Operation, 'method' | 'path'>) =>
  VALID_BODIES[`${op.method} ${op.path}`];

/** The REST error shape with the given status, code and (for validation errors) field. */
export function expectError(reply: RestReply, status: number, error: string, field?: string) {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.json).toMatchObject({ error, message: expect.any(String) });
  if (field !== undefined) expect(reply.json.field).toBe(field);
}
