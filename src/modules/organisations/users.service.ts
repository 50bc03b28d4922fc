import { and, count, eq } from 'drizzle-orm';
import { type UserRow, users } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../lib/errors.ts';
import { isPlausibleId, newId } from '../../lib/ids.ts';
import { parseInput } from '../../lib/validation.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { createUserSchema, updateRoleSchema } from '../auth/auth.schemas.ts';
import { requireWriter, type Session } from '../auth/session.ts';
import { lockOrganisationPlan } from './plan-lock.ts';

export type UsersService = ReturnType<typeof createUsersService>;

/** Users one organisation may have: the users list is one answer, so it stays bounded. */
export const MAX_USERS_PER_ORGANISATION = 500;

export function createUsersService({ db, clock, random, passwords }: Deps) {
  const findInOrg = async (session: Session, userId: string) => {
    if (!isPlausibleId(userId)) throw new NotFoundError('User', userId.slice(0, 200));
    const [user] = await db
      .select()
      .from(users)
      .where(and(eq(users.id, userId), eq(users.organisationId, session.organisationId)));
    if (!user) throw new NotFoundError('User', userId);
    return user;
  };

  return {
    /** RQB filter for one user of the session's organisation; a malformed ID is not found. */
    lookupFilter(session: Session, userId: string) {
      if (!isPlausibleId(userId)) throw new NotFoundError('User', userId.slice(0, 200));
      return { id: userId, organisationId: session.organisationId };
    },

    /** Oldest first; at most MAX_USERS_PER_ORGANISATION, which create keeps the organisation to. */
    list(session: Session): Promise<UserRow[]> {
      return db
        .select()
        .from(users)
        .where(eq(users.organisationId, session.organisationId))
        .orderBy(users.createdAt, users.id)
        .limit(MAX_USERS_PER_ORGANISATION);
    },

    me: (session: Session) => findInOrg(session, session.userId),

    /** Owners and admins add users; only an owner may add another owner. */
    async create(session: Session, input: unknown): Promise<UserRow> {
      requireWriter(session);
      const { email, password, role } = parseInput(createUserSchema, input);
      if (role === 'owner' && session.role !== 'owner')
        throw new ForbiddenError('Only an owner can add an owner');
      const now = clock.now();
      const passwordHash = await passwords.hash(password);
      const row = await db.transaction(async (tx) => {
        // Counted under the organisation lock, so concurrent adds cannot pass the cap together.
        await lockOrganisationPlan(tx, session.organisationId);
        const [members] = await tx
          .select({ n: count() })
          .from(users)
          .where(eq(users.organisationId, session.organisationId));
        if ((members?.n ?? 0) >= MAX_USERS_PER_ORGANISATION) {
          throw new ConflictError(
            `An organisation has at most ${MAX_USERS_PER_ORGANISATION} users; remove one first`,
          );
        }
        const [inserted] = await tx
          .insert(users)
          .values({
            id: newId('usr', random),
            organisationId: session.organisationId,
            email,
            passwordHash,
            role,
            createdAt: now,
            passwordChangedAt: now,
          })
          .onConflictDoNothing()
          .returning();
        if (inserted) {
          await recordAudit(tx, session, 'user.created', { type: 'user', id: inserted.id }, now);
        }
        return inserted;
      });
      if (!row) throw new ConflictError('An account with this email already exists');
      return row;
    },

    /**
     * Role changes apply to the user's next request (authentication reads the role). The
     * organisation row is locked while owners are counted, so two owners demoting each other at
     * once cannot leave none.
     */
    async updateRole(session: Session, userId: string, input: unknown): Promise<UserRow> {
      requireWriter(session);
      const { role } = parseInput(updateRoleSchema, input);
      const updated = await db.transaction(async (tx) => {
        await lockOrganisationPlan(tx, session.organisationId);
        const [user] = await tx
          .select()
          .from(users)
          .where(
            and(
              eq(users.id, isPlausibleId(userId) ? userId : ''),
              eq(users.organisationId, session.organisationId),
            ),
          );
        if (!user) throw new NotFoundError('User', userId.slice(0, 200));
        if (user.role === role) return user;
        if ((user.role === 'owner' || role === 'owner') && session.role !== 'owner') {
          throw new ForbiddenError('Only an owner can grant or take the owner role');
        }
        if (user.role === 'owner') {
          const [owners] = await tx
            .select({ n: count() })
            .from(users)
            .where(and(eq(users.organisationId, session.organisationId), eq(users.role, 'owner')));
          if ((owners?.n ?? 0) <= 1) {
            throw new ValidationError('role', 'role: the last owner must stay an owner');
          }
        }
        const [row] = await tx.update(users).set({ role }).where(eq(users.id, user.id)).returning();
        const object = { type: 'user', id: user.id } as const;
        await recordAudit(tx, session, 'user.role_changed', object, clock.now());
        return row!;
      });
      return updated;
    },

    /**
     * Removing a user ends their tokens at once (authentication looks the user up). As in
     * updateRole, the organisation row is locked while owners are counted, so two owners
     * removing each other at once cannot leave none.
     */
    async remove(session: Session, userId: string): Promise<UserRow> {
      requireWriter(session);
      if (!isPlausibleId(userId)) throw new NotFoundError('User', userId.slice(0, 200));
      return db.transaction(async (tx) => {
        await lockOrganisationPlan(tx, session.organisationId);
        const [user] = await tx
          .select()
          .from(users)
          .where(and(eq(users.id, userId), eq(users.organisationId, session.organisationId)));
        if (!user) throw new NotFoundError('User', userId);
        if (user.id === session.userId)
          throw new ValidationError('id', 'id: you cannot remove yourself');
        if (user.role === 'owner') {
          if (session.role !== 'owner')
            throw new ForbiddenError('Only an owner can remove an owner');
          const [owners] = await tx
            .select({ n: count() })
            .from(users)
            .where(and(eq(users.organisationId, session.organisationId), eq(users.role, 'owner')));
          if ((owners?.n ?? 0) <= 1)
            throw new ValidationError('id', 'id: the last owner cannot be removed');
        }
        await tx.delete(users).where(eq(users.id, user.id));
        await recordAudit(tx, session, 'user.removed', { type: 'user', id: user.id }, clock.now());
        return user;
      });
    },
  };
}
