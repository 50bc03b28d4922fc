import { and, eq, sql } from 'drizzle-orm';
import { organisations, sessions, type UserRow, users } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import {
  ConflictError,
  InvalidCredentialsError,
  RateLimitedError,
  SessionExpiredError,
  UnauthenticatedError,
  ValidationError,
} from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { parseInput } from '../../lib/validation.ts';
import { changePasswordSchema, loginSchema, signupSchema } from './auth.schemas.ts';
import { LoginLimiter } from './login-limiter.ts';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password.ts';
import type { AuthenticatedSession, Session } from './session.ts';
import { endSession, findLiveSession, startSession } from './sessions.ts';
import { issueToken, type TokenSettings, verifyToken } from './tokens.ts';

export interface AuthResult {
  token: string;
  expiresAt: Date;
  user: UserRow;
  /** Only when a session starts (login, signup, password change); a refresh keeps the old one. */
  refreshToken: string | null;
  sessionExpiresAt: Date;
}

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: Deps, tokenSettings: TokenSettings) {
  const { db, clock, random, config } = deps;
  const limiter = new LoginLimiter(db, clock);

  /** Every login is a session: access tokens last JWT_TTL_S, the session SESSION_MAX_AGE_S. */
  const issueFor = async (user: UserRow): Promise<AuthResult> => {
    const started = await startSession(db, user, clock.now(), config.sessionMaxAgeSeconds, random);
    const { token, expiresAt } = await issueToken(
      tokenSettings,
      clock,
      { userId: user.id, version: user.tokenVersion, sessionId: started.sessionId },
      started.expiresAt,
    );
    return {
      token,
      expiresAt,
      user,
      refreshToken: started.refreshToken,
      sessionExpiresAt: started.expiresAt,
    };
  };

  return {
    /** Creates an organisation on the free plan with its owner, and logs the owner in. */
    async signup(input: unknown): Promise<AuthResult> {
      const { organisationName, email, password } = parseInput(signupSchema, input);
      const passwordHash = await hashPassword(password);
      const now = clock.now();
      const user = await db.transaction(async (tx) => {
        const [existing] = await tx
          .select({ id: users.id })
          .from(users)
          .where(eq(sql`lower(${users.email})`, email));
        if (existing) throw new ConflictError('An account with this email already exists');
        const organisationId = newId('org', random);
        await tx
          .insert(organisations)
          .values({ id: organisationId, name: organisationName, createdAt: now });
        const [row] = await tx
          .insert(users)
          .values({
            id: newId('usr', random),
            organisationId,
            email,
            passwordHash,
            role: 'owner',
            createdAt: now,
            passwordChangedAt: now,
          })
          .onConflictDoNothing()
          .returning();
        // A concurrent signup with the same email won the unique index.
        if (!row) throw new ConflictError('An account with this email already exists');
        return row;
      });
      return issueFor(user);
    },

    /**
     * Unknown email and wrong password give the same error after the same work. Repeated
     * failures for one email from one client address are refused for a while (every door).
     */
    async login(input: unknown, clientAddress = ''): Promise<AuthResult> {
      const { email, password } = parseInput(loginSchema, input);
      const limiterKey = `${email.trim().toLowerCase()}\n${clientAddress}`;
      const wait = await limiter.retryAfterSeconds(limiterKey);
      if (wait > 0) throw new RateLimitedError(wait);
      const [user] = await db
        .select()
        .from(users)
        .where(eq(sql`lower(${users.email})`, email.trim().toLowerCase()));
      const ok = user
        ? await verifyPassword(password, user.passwordHash)
        : await verifyAgainstDummy(password);
      if (!user || !ok) {
        await limiter.recordFailure(limiterKey);
        throw new InvalidCredentialsError();
      }
      await limiter.reset(limiterKey);
      return issueFor(user);
    },

    /**
     * Token -> session. The user must still exist, the token must postdate any password change,
     * and its login must not have been ended by logout (one statement either way).
     */
    async authenticate(token: string): Promise<AuthenticatedSession> {
      const claims = await verifyToken(tokenSettings, clock, token);
      const columns = {
        id: users.id,
        organisationId: users.organisationId,
        role: users.role,
        tokenVersion: users.tokenVersion,
      };
      const [user] = claims.sessionId
        ? await db
            .select({ ...columns, endedAt: sessions.endedAt })
            .from(users)
            .innerJoin(
              sessions,
              and(eq(sessions.id, claims.sessionId), eq(sessions.userId, users.id)),
            )
            .where(eq(users.id, claims.userId))
        : await db.select(columns).from(users).where(eq(users.id, claims.userId));
      if (!user || user.tokenVersion !== claims.version) {
        throw new UnauthenticatedError('Token no longer valid; log in again');
      }
      if ('endedAt' in user && user.endedAt) {
        throw new UnauthenticatedError('Logged out; log in again');
      }
      return {
        userId: user.id,
        organisationId: user.organisationId,
        role: user.role,
        expiresAt: claims.expiresAt,
        tokenVersion: user.tokenVersion,
        ...(claims.sessionId ? { sessionId: claims.sessionId } : {}),
      };
    },

    /**
     * A fresh access token for a live session; the refresh token itself stays the same, and the
     * session still ends SESSION_MAX_AGE_S after login, however often it is refreshed.
     */
    async refresh(refreshToken: string): Promise<AuthResult> {
      const now = clock.now();
      const { session, user } = await findLiveSession(db, refreshToken, now);
      await db.update(sessions).set({ refreshedAt: now }).where(eq(sessions.id, session.id));
      const { token, expiresAt } = await issueToken(
        tokenSettings,
        clock,
        { userId: user.id, version: user.tokenVersion, sessionId: session.id },
        session.expiresAt,
      );
      return { token, expiresAt, user, refreshToken: null, sessionExpiresAt: session.expiresAt };
    },

    /** Ends the caller's login; false for a token issued before sessions existed. */
    async logout(session: AuthenticatedSession): Promise<boolean> {
      if (!session.sessionId) return false;
      return endSession(db, session.sessionId, session.userId, clock.now());
    },

    /** Ends the login a refresh token belongs to (the browser's cookie logout). */
    async logoutByRefreshToken(refreshToken: string): Promise<boolean> {
      const found = await findLiveSession(db, refreshToken, clock.now()).catch((err) => {
        if (err instanceof SessionExpiredError) return null;
        throw err;
      });
      return found ? endSession(db, found.session.id, found.user.id, clock.now()) : false;
    },

    /** Changing the password ends every token issued before; the caller gets a fresh one. */
    async changePassword(session: Session, input: unknown): Promise<AuthResult> {
      const { currentPassword, newPassword } = parseInput(changePasswordSchema, input);
      const [user] = await db.select().from(users).where(eq(users.id, session.userId));
      if (!user) throw new UnauthenticatedError();
      if (!(await verifyPassword(currentPassword, user.passwordHash))) {
        throw new ValidationError('currentPassword', 'currentPassword: does not match');
      }
      const [updated] = await db
        .update(users)
        .set({
          passwordHash: await hashPassword(newPassword),
          tokenVersion: sql`${users.tokenVersion} + 1`,
          passwordChangedAt: clock.now(),
        })
        .where(eq(users.id, user.id))
        .returning();
      return issueFor(updated!);
    },
  };
}
