import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { ApiKeyRow } from '../../db/schema.ts';
import { formatDateTime } from '../../lib/datetime.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { PLAN_LIMIT_STATUS } from '../../rest/errors.ts';
import { defineRoute, type RestRoute } from '../../rest/rest-router.ts';
import { dateTimeWire, timestampResponse } from '../../rest/wire.ts';
import type { Services } from '../../services.ts';
import type { Session } from '../auth/session.ts';
import { hostsOf } from '../tenants/cells.ts';
import { createApiKeySchema, rollApiKeySchema } from './api-keys.schemas.ts';
import type { IssuedApiKey } from './api-keys.service.ts';
import { buildClientConfig } from './client-config.ts';
import { MAX_KEYS_LISTED } from './key-listing.ts';

const optionalTimestamp = timestampResponse.nullable();

export const apiKeyResponse = z.object({
  id: z.string(),
  tenant_id: z.string(),
  display_name: z.string(),
  prefix: z
    .string()
    .meta({ description: 'First 8 characters of the key.', examples: ['xag_a1b2'] }),
  scopes: z.array(z.string()),
  created_at: timestampResponse,
  expires_at: optionalTimestamp,
  revoked_at: optionalTimestamp,
  last_used_at: optionalTimestamp,
  previous_prefix: z.string().nullable(),
  previous_expires_at: optionalTimestamp,
});

/** Config blocks as arrays of lines: no escape sequences, so `echo $KEY_RESPONSE | jq` works in any shell. */
const configLines = z.array(z.string()).nullable();
export const issuedKeyResponse = apiKeyResponse.extend({
  key: z.string().meta({ description: 'The full key: shown only in this response.' }),
  client_config: z.object({
    prometheus_remote_write: configLines,
    grafana_alloy: configLines,
    opentelemetry_collector: configLines,
  }),
});

const time = (d: Date | null) => (d ? formatDateTime(d) : null);

export function presentApiKey(row: ApiKeyRow): z.infer<typeof apiKeyResponse> {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    display_name: row.displayName,
    prefix: row.prefix,
    scopes: row.scopes,
    created_at: formatDateTime(row.createdAt),
    expires_at: time(row.expiresAt),
    revoked_at: time(row.revokedAt),
    last_used_at: time(row.lastUsedAt),
    previous_prefix: row.previousPrefix,
    previous_expires_at: time(row.previousExpiresAt),
  };
}

function presentIssued(issued: IssuedApiKey, config: Config): z.infer<typeof issuedKeyResponse> {
  const blocks = buildClientConfig({
    tenantId: issued.tenant.id,
    key: issued.key,
    scopes: issued.apiKey.scopes,
    hosts: hostsOf(config.cells, issued.tenant.cell),
  });
  const lines = (text: string | null) =>
    text === null ? null : text.replace(/\n$/, '').split('\n');
  return {
    key: issued.key,
    ...presentApiKey(issued.apiKey),
    client_config: {
      prometheus_remote_write: lines(blocks.prometheusRemoteWrite),
      grafana_alloy: lines(blocks.grafanaAlloy),
      opentelemetry_collector: lines(blocks.openTelemetryCollector),
    },
  };
}

const createBody = z.strictObject({
  display_name: createApiKeySchema.shape.displayName,
  expires_at: dateTimeWire.nullish(),
  scopes: createApiKeySchema.shape.scopes,
});
const rollBody = z.strictObject({
  grace_period_seconds: rollApiKeySchema.shape.gracePeriodSeconds,
});

const listQuery = z.strictObject({
  include_revoked: z
    .enum(['true', 'false'], 'must be true or false')
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: 'false: live keys only (default true).' }),
});

export function keyRoutes({ apiKeys }: Services, config: Config): RestRoute[] {
  /** The path names the tenant: a key of another tenant is not found under it. */
  const keyUnder = async (session: Session, tenantId: string, keyId: string) => {
    const key = await apiKeys.findVisible(session, keyId);
    if (key.tenantId !== tenantId) throw new NotFoundError('ApiKey', keyId);
    return key;
  };
  return [
    defineRoute({
      method: 'POST',
      path: '/tenants/{id}/keys',
      tag: 'API keys',
      summary: 'Create a key; the full key is in this response only.',
      auth: true,
      body: createBody,
      status: 201,
      response: issuedKeyResponse,
      errors: [PLAN_LIMIT_STATUS],
      handle: async ({ session, params, body }) => {
        const issued = await apiKeys.create(session, params.id!, {
          displayName: body.display_name,
          expiresAt: body.expires_at,
          scopes: body.scopes,
        });
        return presentIssued(issued, config);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tenants/{id}/keys',
      tag: 'API keys',
      summary: `The tenant's keys, prefixes only: live ones oldest first, then revoked ones, newest revocation first; at most ${MAX_KEYS_LISTED}.`,
      auth: true,
      query: listQuery,
      response: z.array(apiKeyResponse),
      handle: async ({ session, params, query }) =>
        (await apiKeys.list(session, params.id!, { includeRevoked: query.include_revoked })).map(
          presentApiKey,
        ),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/tenants/{id}/keys/{key_id}',
      tag: 'API keys',
      summary: 'Revoke a key (idempotent); refused by /auth/verify at once.',
      auth: true,
      response: apiKeyResponse,
      handle: async ({ session, params }) => {
        const key = await keyUnder(session, params.id!, params.key_id!);
        return presentApiKey(await apiKeys.revoke(session, key.id));
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/tenants/{id}/keys/{key_id}/roll',
      tag: 'API keys',
      summary: 'New secret for the key; the old one works for grace_period_seconds more.',
      auth: true,
      body: rollBody,
      response: issuedKeyResponse,
      handle: async ({ session, params, body }) => {
        const key = await keyUnder(session, params.id!, params.key_id!);
        const issued = await apiKeys.roll(session, key.id, {
          gracePeriodSeconds: body.grace_period_seconds,
        });
        return presentIssued(issued, config);
      },
    }),
  ];
}
