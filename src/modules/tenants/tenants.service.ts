import { and, count, eq, ilike, inArray, ne, or } from 'drizzle-orm';
import { type TenantRow, tenants } from '../../db/schema.ts';
import type { Deps, Tx } from '../../lib/deps.ts';
import { NotFoundError, PlanLimitExceededError } from '../../lib/errors.ts';
import { isPlausibleId } from '../../lib/ids.ts';
import { parseInput } from '../../lib/validation.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { requireWriter, type Session } from '../auth/session.ts';
import { lockOrganisationPlan } from '../organisations/plan-lock.ts';
import { PLAN_LIMITS } from '../organisations/plans.ts';
import { cellsOfRegion, pickCell } from './cells.ts';
import { generateTenantId } from './tenant-id.ts';
import { MAX_TENANTS_LISTED } from './tenant-listing.ts';
import {
  containsPattern,
  createTenantSchema,
  tenantFilterSchema,
  updateTenantSchema,
} from './tenants.schemas.ts';

/** Tenants that count against the plan: everything not deleted (suspended ones too). */
export async function countLiveTenants(tx: Tx, organisationId: string): Promise<number> {
  const [live] = await tx
    .select({ n: count() })
    .from(tenants)
    .where(and(eq(tenants.organisationId, organisationId), ne(tenants.status, 'deleted')));
  return live?.n ?? 0;
}

/** The list filter, with the search as a LIKE pattern (list and count must agree). */
function parseFilter(filter: unknown) {
  const { environment, search } = parseInput(tenantFilterSchema, filter);
  return { environment, pattern: search ? containsPattern(search) : undefined };
}

export type TenantsService = ReturnType<typeof createTenantsService>;

const ID_ATTEMPTS = 5;

export function createTenantsService({ db, clock, random, config, events }: Deps) {
  /** Tenants the session may see: its organisation's, not deleted. */
  const visible = (session: Session, id: string) =>
    and(
      eq(tenants.id, id),
      eq(tenants.organisationId, session.organisationId),
      ne(tenants.status, 'deleted'),
    );

  const setStatus = async (
    session: Session,
    id: string,
    status: 'active' | 'suspended' | 'deleted',
  ) => {
    requireWriter(session);
    if (!isPlausibleId(id)) throw new NotFoundError('Tenant', id.slice(0, 200));
    const now = clock.now();
    const { row, evict } = await db.transaction(async (tx) => {
      const [row] = await tx
        .update(tenants)
        .set({ status, updatedAt: now, deletedAt: status === 'deleted' ? now : null })
        .where(visible(session, id))
        .returning();
      if (!row) throw new NotFoundError('Tenant', id);
      const action = `tenant.${status === 'active' ? 'resumed' : status}` as const;
      await recordAudit(tx, session, action, { type: 'tenant', id }, now);
      // One small payload whatever the number of keys; it commits with the change. Resuming
      // evicts too: the suspension may be cached as a refusal.
      return {
        row,
        evict: await events.publishInTransaction(tx, 'tenant.invalidated', { tenantId: id }),
      };
    });
    await evict();
    return row;
  };

  return {
    /** RQB filter for the tenants a session lists; GraphQL plans its query around it. */
    listFilter(session: Session, filter: unknown = {}) {
      const { environment, pattern } = parseFilter(filter);
      return {
        organisationId: session.organisationId,
        status: { ne: 'deleted' as const },
        ...(environment ? { environment } : {}),
        ...(pattern
          ? { OR: [{ displayName: { ilike: pattern } }, { id: { ilike: pattern } }] }
          : {}),
      };
    },

    /** How many tenants listFilter matches, across all pages. */
    async count(session: Session, filter: unknown = {}): Promise<number> {
      const { environment, pattern } = parseFilter(filter);
      const [row] = await db
        .select({ n: count() })
        .from(tenants)
        .where(
          and(
            eq(tenants.organisationId, session.organisationId),
            ne(tenants.status, 'deleted'),
            environment ? eq(tenants.environment, environment) : undefined,
            pattern
              ? or(ilike(tenants.displayName, pattern), ilike(tenants.id, pattern))
              : undefined,
          ),
        );
      return row?.n ?? 0;
    },

    list(session: Session, filter: unknown = {}): Promise<TenantRow[]> {
      return db.query.tenants.findMany({
        where: this.listFilter(session, filter),
        orderBy: { createdAt: 'asc', id: 'asc' },
        limit: MAX_TENANTS_LISTED,
      });
    },

    /** RQB filter for one tenant the session may see; a malformed ID is simply not found. */
    lookupFilter(session: Session, id: string) {
      if (!isPlausibleId(id)) throw new NotFoundError('Tenant', id.slice(0, 200));
      return { ...this.listFilter(session), id };
    },

    async get(session: Session, id: string): Promise<TenantRow> {
      if (!isPlausibleId(id)) throw new NotFoundError('Tenant', id.slice(0, 200));
      const [row] = await db.select().from(tenants).where(visible(session, id));
      if (!row) throw new NotFoundError('Tenant', id);
      return row;
    },

    /**
     * Race-free plan limit: the organisation row is locked while live tenants are counted and the
     * new one inserted, so concurrent creates queue up instead of all seeing room for one more.
     */
    async create(session: Session, input: unknown): Promise<TenantRow> {
      requireWriter(session);
      const { displayName, environment, region: requested } = parseInput(createTenantSchema, input);
      const region = requested ?? config.defaultRegion;
      const candidates = cellsOfRegion(config.cells, region);
      const now = clock.now();
      const row = await db.transaction(async (tx) => {
        const plan = await lockOrganisationPlan(tx, session.organisationId);
        const limit = PLAN_LIMITS[plan].maxTenants;
        const live = await countLiveTenants(tx, session.organisationId);
        if (live >= limit) throw new PlanLimitExceededError(plan, 'tenants', limit, live);

        const load = await tx
          .select({ cell: tenants.cell, n: count() })
          .from(tenants)
          .where(
            and(
              inArray(
                tenants.cell,
                candidates.map((c) => c.cell),
              ),
              ne(tenants.status, 'deleted'),
            ),
          )
          .groupBy(tenants.cell);
        const cell = pickCell(candidates, new Map(load.map((l) => [l.cell, l.n])));

        // IDs are never reused: deleted tenants keep their row, so the primary key guards reuse.
        for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
          const [inserted] = await tx
            .insert(tenants)
            .values({
              id: generateTenantId(displayName, random),
              organisationId: session.organisationId,
              displayName,
              environment,
              region,
              cell: cell.cell,
              createdAt: now,
              updatedAt: now,
            })
            .onConflictDoNothing({ target: tenants.id })
            .returning();
          if (inserted) {
            const object = { type: 'tenant', id: inserted.id } as const;
            await recordAudit(tx, session, 'tenant.created', object, now);
            return inserted;
          }
        }
        throw new Error(`no free tenant id after ${ID_ATTEMPTS} attempts`);
      });
      return row;
    },

    /** Display name and environment change; the ID never does. */
    async update(session: Session, id: string, input: unknown): Promise<TenantRow> {
      requireWriter(session);
      if (!isPlausibleId(id)) throw new NotFoundError('Tenant', id.slice(0, 200));
      const { displayName, environment } = parseInput(updateTenantSchema, input);
      const now = clock.now();
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(tenants)
          .set({
            ...(displayName != null ? { displayName } : {}),
            ...(environment != null ? { environment } : {}),
            updatedAt: now,
          })
          .where(visible(session, id))
          .returning();
        if (!row) throw new NotFoundError('Tenant', id);
        await recordAudit(tx, session, 'tenant.updated', { type: 'tenant', id }, now);
        return row;
      });
    },

    /** Soft delete: gone from lists and lookups, keys stop working, the ID is never reused. */
    delete: (session: Session, id: string) => setStatus(session, id, 'deleted'),

    /** A suspended tenant's keys all fail verification until it is resumed. */
    suspend: (session: Session, id: string) => setStatus(session, id, 'suspended'),
    resume: (session: Session, id: string) => setStatus(session, id, 'active'),
  };
}
