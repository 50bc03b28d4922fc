import { sql } from 'drizzle-orm';
import {
  bigint,
  doublePrecision,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
/** Insert DEFAULT: for a column a BEFORE INSERT trigger sets (drizzle would require a value). */
function filledByTrigger() {
  return sql`default`;
}

export const billingPlanEnum = pgEnum('billing_plan', ['free', 'scale']);
export const roleEnum = pgEnum('user_role', ['owner', 'admin', 'viewer']);
export const environmentEnum = pgEnum('tenant_environment', ['prod', 'staging', 'dev']);
export const tenantStatusEnum = pgEnum('tenant_status', ['active', 'suspended', 'deleted']);

export const organisations = pgTable('organisations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  billingPlan: billingPlanEnum('billing_plan').notNull().default('free'),
  /** The Stripe customer paying for the plan (set by the first completed Checkout). */
  stripeCustomerId: text('stripe_customer_id').unique(),
  createdAt: tz('created_at').notNull().defaultNow(),
});

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    email: text('email').notNull(),
    /** `scrypt$<logN>$<r>$<p>$<salt>$<hash>`: parameters travel with the hash. */
    passwordHash: text('password_hash').notNull(),
    role: roleEnum('role').notNull(),
    /** Bumped on password change; tokens carry it, so older tokens stop working. */
    tokenVersion: integer('token_version').notNull().default(1),
    createdAt: tz('created_at').notNull().defaultNow(),
    passwordChangedAt: tz('password_changed_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_email_unique').on(sql`lower(${t.email})`),
    index('users_organisation_idx').on(t.organisationId),
  ],
);

export const tenants = pgTable(
  'tenants',
  {
    id: text('id').primaryKey(),
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    displayName: text('display_name').notNull(),
    environment: environmentEnum('environment').notNull(),
    region: text('region').notNull(),
    cell: text('cell').notNull(),
    status: tenantStatusEnum('status').notNull().default('active'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    index('tenants_organisation_idx').on(t.organisationId, t.createdAt),
    index('tenants_cell_idx').on(t.cell),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    displayName: text('display_name').notNull(),
    /** First 8 characters of the key, for recognising it in listings. */
    prefix: text('prefix').notNull(),
    /** SHA-256 (hex) of the whole key; the key itself is never stored. */
    hash: text('hash').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    createdBy: text('created_by'),
    expiresAt: tz('expires_at'),
    revokedAt: tz('revoked_at'),
    lastUsedAt: tz('last_used_at'),
    /** The secret replaced by the last roll, valid until previousExpiresAt (rotation grace). */
    previousPrefix: text('previous_prefix'),
    previousHash: text('previous_hash'),
    previousExpiresAt: tz('previous_expires_at'),
  },
  // The secrets are unique through api_key_secrets' primary key; verification looks them up there.
  (t) => [index('api_keys_tenant_idx').on(t.tenantId, t.createdAt)],
);

/**
 * Each working secret of a key as its own row, keyed by its SHA-256 (hex): the current one and,
 * after a roll, the previous one until its grace period ends. Written in the transaction that
 * writes the key's hash and previous_hash.
 *
 * An uncached verification reads this row alone: what it needs of the key and its tenant is
 * copied here (a join of the three tables cost PostgreSQL twice a primary-key read). Triggers
 * keep the copy (migration `*_verify_columns_on_secrets`): an insert takes it from the key and
 * the tenant, share-locked, and an update of either rewrites it in the same transaction, however
 * the row was changed (a service, a migration, plain SQL).
 */
export const apiKeySecrets = pgTable(
  'api_key_secrets',
  {
    hash: text('hash').primaryKey(),
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    /** Null for the current secret; for the one a roll replaced, the end of its grace period. */
    graceExpiresAt: tz('grace_expires_at'),
    // Copies of api_keys.tenant_id, scopes, expires_at, revoked_at and tenants.status. An insert
    // leaves them to the trigger (DEFAULT here, filled before the NOT NULL checks run).
    tenantId: text('tenant_id').notNull().$defaultFn(filledByTrigger),
    scopes: text('scopes').array().notNull().$defaultFn(filledByTrigger),
    expiresAt: tz('expires_at').$defaultFn(filledByTrigger),
    revokedAt: tz('revoked_at').$defaultFn(filledByTrigger),
    tenantStatus: tenantStatusEnum('tenant_status').notNull().$defaultFn(filledByTrigger),
  },
  (t) => [
    index('api_key_secrets_key_idx').on(t.keyId),
    // A tenant's status change rewrites its secrets' copy.
    index('api_key_secrets_tenant_idx').on(t.tenantId),
  ],
);

export const usageCurrent = pgTable('usage_current', {
  tenantId: text('tenant_id')
    .primaryKey()
    .references(() => tenants.id),
  activeSeries: bigint('active_series', { mode: 'number' }).notNull().default(0),
  logsBytesThisMonth: doublePrecision('logs_bytes_this_month').notNull().default(0),
  tracesBytesThisMonth: doublePrecision('traces_bytes_this_month').notNull().default(0),
  syncedAt: tz('synced_at').notNull(),
});

export const usageSamples = pgTable(
  'usage_samples',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    at: tz('at').notNull(),
    activeSeries: bigint('active_series', { mode: 'number' }).notNull(),
    logsBytesThisMonth: doublePrecision('logs_bytes_this_month').notNull(),
    tracesBytesThisMonth: doublePrecision('traces_bytes_this_month').notNull(),
  },
  // A B-tree on at: the tick's roll-up reads its own samples back by it, and retention too.
  (t) => [primaryKey({ columns: [t.tenantId, t.at] }), index('usage_samples_at_idx').on(t.at)],
);

/** An organisation's per-tick sums over the tenants it had at the time (raw resolution). */
export const usageOrgSamples = pgTable(
  'usage_org_samples',
  {
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    at: tz('at').notNull(),
    activeSeries: bigint('active_series', { mode: 'number' }).notNull(),
    logsBytesThisMonth: doublePrecision('logs_bytes_this_month').notNull(),
    tracesBytesThisMonth: doublePrecision('traces_bytes_this_month').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.organisationId, t.at] }),
    index('usage_org_samples_at_brin').using('brin', t.at),
  ],
);

/**
 * A roll-up of per-tick samples into `bucket`-long periods (hour, day), folded in by each tick:
 * the peak of active series, and the month-to-date byte counts of the bucket's last sample
 * (`last_at`), which is also the time a history point carries.
 */
const rollupColumns = {
  bucket: tz('bucket').notNull(),
  lastAt: tz('last_at').notNull(),
  activeSeries: bigint('active_series', { mode: 'number' }).notNull(),
  logsBytesThisMonth: doublePrecision('logs_bytes_this_month').notNull(),
  tracesBytesThisMonth: doublePrecision('traces_bytes_this_month').notNull(),
};

const tenantRollup = (name: string) =>
  pgTable(
    name,
    {
      tenantId: text('tenant_id')
        .notNull()
        .references(() => tenants.id),
      ...rollupColumns,
    },
    // The bucket index serves retention's bounded deletes.
    (t) => [
      primaryKey({ columns: [t.tenantId, t.bucket] }),
      index(`${name}_bucket_brin`).using('brin', t.bucket),
    ],
  );

const orgRollup = (name: string) =>
  pgTable(
    name,
    {
      organisationId: text('organisation_id')
        .notNull()
        .references(() => organisations.id),
      ...rollupColumns,
    },
    (t) => [
      primaryKey({ columns: [t.organisationId, t.bucket] }),
      index(`${name}_bucket_brin`).using('brin', t.bucket),
    ],
  );

export const usageHourly = tenantRollup('usage_hourly');
export const usageDaily = tenantRollup('usage_daily');
export const usageOrgHourly = orgRollup('usage_org_hourly');
export const usageOrgDaily = orgRollup('usage_org_daily');

export const usageSyncState = pgTable('usage_sync_state', {
  id: integer('id').primaryKey(),
  /** floor(epoch / interval) of the last tick some instance ran: one sync per tick. */
  lastTick: bigint('last_tick', { mode: 'number' }),
  lastAttemptAt: tz('last_attempt_at'),
  lastSuccessAt: tz('last_success_at'),
  lastError: text('last_error'),
  lastErrorAt: tz('last_error_at'),
  tenantsSynced: integer('tenants_synced').notNull().default(0),
});

/**
 * Append-only: rows are inserted in the transaction of the change they record, never updated
 * (a trigger refuses it), and deleted only by the retention job (AUDIT_RETENTION_DAYS).
 * No foreign keys: the record outlives the users and tenants it names.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** Whose log it is in; null for an attempt on no account (e.g. login with an unknown email). */
    organisationId: text('organisation_id'),
    /** The user who acted; null when no one was signed in (a failed login). */
    actorId: text('actor_id'),
    action: text('action').notNull(),
    objectType: text('object_type'),
    objectId: text('object_id'),
    outcome: text('outcome').notNull(),
    sourceAddress: text('source_address'),
    at: tz('at').notNull().defaultNow(),
  },
  (t) => [
    index('audit_events_org_idx').on(t.organisationId, t.at.desc(), t.id.desc()),
    index('audit_events_at_idx').on(t.at),
  ],
);

/**
 * A login: the refresh token (only its SHA-256 kept) renews short-lived access tokens until
 * expiresAt (SESSION_MAX_AGE_S after login), endedAt (logout) or a password change (tokenVersion).
 */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    refreshHash: text('refresh_hash').notNull(),
    /** The user's token version at login; a password change ends every earlier session. */
    tokenVersion: integer('token_version').notNull(),
    createdAt: tz('created_at').notNull(),
    expiresAt: tz('expires_at').notNull(),
    refreshedAt: tz('refreshed_at'),
    endedAt: tz('ended_at'),
  },
  (t) => [
    uniqueIndex('sessions_refresh_hash_unique').on(t.refreshHash),
    index('sessions_user_idx').on(t.userId),
    index('sessions_expires_idx').on(t.expiresAt),
  ],
);

export type OrganisationRow = typeof organisations.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type TenantRow = typeof tenants.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * Credential attempts (login, signup, password change), shared by every instance and worker:
 * the limits hold however requests are spread. An attempt is written before the password is
 * checked and stays as a failure unless it succeeds. Keyed by a hash (of email and client
 * address, of a user, ...; neither is kept); rows outlive the longest window only until the
 * next attempt anywhere deletes them.
 */
export const loginFailures = pgTable(
  'login_failures',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    keyHash: text('key_hash').notNull(),
    failedAt: tz('failed_at').notNull(),
  },
  (t) => [
    index('login_failures_key_idx').on(t.keyHash, t.failedAt),
    index('login_failures_at_idx').on(t.failedAt),
  ],
);

/**
 * Sources (email + client address, hashed) that logged in successfully: the per-account limit
 * never holds back an address the account's owner used recently.
 */
export const loginSources = pgTable(
  'login_sources',
  {
    keyHash: text('key_hash').primaryKey(),
    succeededAt: tz('succeeded_at').notNull(),
  },
  (t) => [index('login_sources_at_idx').on(t.succeededAt)],
);

/**
 * Stripe webhook events already applied, by event ID: written in the transaction that applies
 * the event, so a redelivered event finds its row and changes nothing.
 */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  /** Stripe's `created` of the event. */
  createdAt: tz('created_at').notNull(),
  receivedAt: tz('received_at').notNull(),
});

/**
 * One row per Stripe subscription: the newest event applied to it, so an older event delivered
 * late never moves the plan back; `deleted` is terminal.
 */
export const billingSubscriptions = pgTable(
  'billing_subscriptions',
  {
    id: text('id').primaryKey(),
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    status: text('status').notNull(),
    lastEventAt: tz('last_event_at').notNull(),
    lastEventId: text('last_event_id').notNull(),
  },
  (t) => [index('billing_subscriptions_org_idx').on(t.organisationId)],
);

/** Plan keys an organisation redeemed (hashed: a key is a secret); each works once per org. */
export const planKeyRedemptions = pgTable(
  'plan_key_redemptions',
  {
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    keyHash: text('key_hash').notNull(),
    plan: billingPlanEnum('plan').notNull(),
    redeemedAt: tz('redeemed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.organisationId, t.keyHash] })],
);

/** Usage alerts: one row each time a usage sync took an organisation across 80% or 100%. */
export const usageAlerts = pgTable(
  'usage_alerts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    /** tenants | api_keys_per_tenant | active_series | logs_gb_this_month */
    limitName: text('limit_name').notNull(),
    threshold: integer('threshold').notNull(),
    used: doublePrecision('used').notNull(),
    max: doublePrecision('max').notNull(),
    at: tz('at').notNull(),
  },
  (t) => [index('usage_alerts_org_idx').on(t.organisationId, t.at.desc(), t.id.desc())],
);

/**
 * Thresholds an organisation is at or above right now: a row means the alert fired and is
 * disarmed; the row goes when usage falls back under, which re-arms it.
 */
export const usageAlertState = pgTable(
  'usage_alert_state',
  {
    organisationId: text('organisation_id')
      .notNull()
      .references(() => organisations.id),
    limitName: text('limit_name').notNull(),
    threshold: integer('threshold').notNull(),
  },
  (t) => [primaryKey({ columns: [t.organisationId, t.limitName, t.threshold] })],
);
