import { ForbiddenError } from '../../lib/errors.ts';

export type Role = 'owner' | 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['owner', 'admin', 'viewer'];

/** Who is calling: passed explicitly to every service call that touches org-owned data. */
export interface Session {
  userId: string;
  organisationId: string;
  role: Role;
  /** The client's address (src/http/client-address.ts), recorded with the session's changes. */
  clientAddress?: string;
}

/** A session proven by a token: it ends at expiresAt, or when the user's token version moves on. */
export interface AuthenticatedSession extends Session {
  expiresAt: Date;
  tokenVersion: number;
  /** The login the token belongs to (absent on tokens issued before sessions existed). */
  sessionId?: string;
}

/** Owners and admins change things; viewers only read. */
export function requireWriter(session: Session): void {
  if (session.role === 'viewer') {
    throw new ForbiddenError('Viewers can read but not change anything; ask an owner or admin');
  }
}

export function requireOwner(session: Session): void {
  if (session.role !== 'owner') throw new ForbiddenError('Only an owner can do this');
}
