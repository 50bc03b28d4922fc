import { builder } from '../../graphql/builder.ts';
import { sessionOf } from '../../graphql/context.ts';
import { NotFoundError, PlanLimitExceededError, ValidationError } from '../../lib/errors.ts';
import { hostsOf } from '../tenants/cells.ts';
import type { IssuedApiKey } from './api-keys.service.ts';
import { buildClientConfig, type ClientConfig } from './client-config.ts';
import { MAX_KEYS_LISTED } from './key-listing.ts';
import { API_KEY_STATUSES } from './key-status.ts';
import { SCOPES } from './scopes.ts';

const ApiKeyStatusEnum = builder.enumType('ApiKeyStatus', {
  values: API_KEY_STATUSES,
  description:
    'revoked and expired keys are refused; expiring: expires within 7 days; in_grace: a roll left the previous secret working until previousExpiresAt.',
});

export const ApiKeyRef = builder.drizzleObject('apiKeys', {
  name: 'ApiKey',
  // `id` and the short `prefix` always; the others only when a query asks for them (see Tenant).
  select: { columns: { id: true, prefix: true } },
  description: 'An ingestion key. The secret is never readable: only its first 8 characters.',
  fields: (t) => ({
    id: t.field({ type: 'ID', resolve: (k) => k.id }),
    tenantId: t.exposeString('tenantId'),
    displayName: t.exposeString('displayName'),
    prefix: t.field({
      type: 'String',
      description: 'First 8 characters of the current secret.',
      resolve: (k) => k.prefix,
    }),
    scopes: t.exposeStringList('scopes', { description: `Any of ${SCOPES.join(', ')}.` }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    previousPrefix: t.exposeString('previousPrefix', {
      nullable: true,
      description: 'Prefix of the secret replaced by the last roll, valid until previousExpiresAt.',
    }),
    previousExpiresAt: t.expose('previousExpiresAt', { type: 'DateTime', nullable: true }),
    status: t.field({
      type: ApiKeyStatusEnum,
      select: { columns: { revokedAt: true, expiresAt: true, previousExpiresAt: true } },
      resolve: (k, _args, ctx) => ctx.services.apiKeys.statusOf(k),
    }),
  }),
});

export const ClientConfigRef = builder.objectRef<ClientConfig>('ClientConfig').implement({
  description: 'One block per signal the key may write; null where the key lacks that scope.',
  fields: (t) => ({
    prometheusRemoteWrite: t.exposeString('prometheusRemoteWrite', {
      nullable: true,
      description: 'Prometheus remote_write (prometheus.yml).',
    }),
    grafanaAlloy: t.exposeString('grafanaAlloy', {
      nullable: true,
      description: 'Grafana Alloy components.',
    }),
    openTelemetryCollector: t.exposeString('openTelemetryCollector', {
      nullable: true,
      description:
        'OpenTelemetry Collector extension, exporters and pipelines (otlp receiver assumed).',
    }),
  }),
});

const IssuedApiKeyRef = builder.objectRef<IssuedApiKey>('IssuedApiKey').implement({
  description: 'The only response that ever contains the full key: store it now.',
  fields: (t) => ({
    key: t.exposeString('key'),
    apiKey: t.field({ type: ApiKeyRef, resolve: (r) => r.apiKey }),
    clientConfig: t.field({
      type: ClientConfigRef,
      description: "Collector configuration for this key and the tenant's hosts, ready to paste.",
      resolve: (r, _args, ctx) =>
        buildClientConfig({
          tenantId: r.tenant.id,
          key: r.key,
          scopes: r.apiKey.scopes,
          hosts: hostsOf(ctx.config.cells, r.tenant.cell),
        }),
    }),
  }),
});

/** Shared by `apiKeys` and `Tenant.apiKeys`. */
export const keyListArgs = builder.args((t) => ({
  includeRevoked: t.boolean({
    defaultValue: true,
    description: `false: live keys only. Otherwise revoked keys follow, newest revocation first, up to ${MAX_KEYS_LISTED} keys in all (every live key always fits).`,
  }),
}));

builder.queryFields((t) => ({
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: `A tenant's keys: live ones oldest first, then revoked ones, most recently revoked first; at most ${MAX_KEYS_LISTED}.`,
    authScopes: { authenticated: true },
    errors: { types: [NotFoundError] },
    args: { tenantId: t.arg.id({ required: true }), ...keyListArgs },
    resolve: (_root, args, ctx) =>
      ctx.services.apiKeys.list(sessionOf(ctx), String(args.tenantId), args),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: IssuedApiKeyRef,
    description: 'Default scopes: metrics:write, logs:write, traces:write.',
    authScopes: { authenticated: true },
    errors: { types: [NotFoundError, ValidationError, PlanLimitExceededError], directResult: true },
    args: {
      tenantId: t.arg.id({ required: true }),
      displayName: t.arg.string({ required: true }),
      expiresAt: t.arg({ type: 'DateTime' }),
      scopes: t.arg.stringList(),
    },
    resolve: (_root, { tenantId, ...input }, ctx) =>
      ctx.services.apiKeys.create(sessionOf(ctx), String(tenantId), input),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description:
      'The key is refused at once on every portal instance (well inside the 15 s bound).',
    authScopes: { authenticated: true },
    errors: { types: [NotFoundError], directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.apiKeys.revoke(sessionOf(ctx), String(args.id)),
  }),
  rollApiKey: t.field({
    type: IssuedApiKeyRef,
    description:
      'New secret for the same key; the old one keeps working for gracePeriodSeconds (0 = stop now).',
    authScopes: { authenticated: true },
    errors: { types: [NotFoundError, ValidationError], directResult: true },
    args: { id: t.arg.id({ required: true }), gracePeriodSeconds: t.arg.int({ required: true }) },
    resolve: (_root, { id, ...input }, ctx) =>
      ctx.services.apiKeys.roll(sessionOf(ctx), String(id), input),
  }),
}));
