import { eq, sql } from 'drizzle-orm';
import { organisations, sessions, type UserRow, users } from '../../db/schema.ts';
import { rateLimitSubject } from '../../http/client-address.ts';
import type { Deps, Tx } from '../../lib/deps.ts';
import {
  InvalidCredentialsError,
  RateLimitedError,
  ServiceUnavailableError,
  SessionExpiredError,
  UnauthenticatedError,
  ValidationError,
} from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { LoginOutcome } from '../../lib/metrics.ts';
import { parseInput } from '../../lib/validation.ts';
import { type AuditActor, recordAudit } from '../audit/audit.service.ts';
import { AttemptCounter, slidingWindow } from './attempt-counter.ts';
import { changePasswordSchema, loginSchema, signupSchema } from './auth.schemas.ts';
import { LoginLimiter } from './login-limiter.ts';
import type { AuthenticatedSession, Session } from './session.ts';
import { endSession, findLiveSession, startSession } from './sessions.ts';
import { createTokenOwnerLookup } from './token-owner.ts';
import { issueToken, type TokenSettings } from './tokens.ts';
import { createTokenVerifier } from './verified-tokens.ts';

export interface AuthResult {
  token: string;
  expiresAt: Date;
  user: UserRow;
  /** Only when a session starts (login, signup, password change); a refresh keeps the old one. */
  refreshToken: string | null;
  sessionExpiresAt: Date;
}

export type AuthService = ReturnType<typeof createAuthService>;

/** Rolls back a signup that lost the race for its email. */
class EmailTaken extends Error {}

export function createAuthService(deps: Deps, tokenSettings: TokenSettings) {
  const { db, clock, random, config, passwords } = deps;
  const limiter = new LoginLimiter(db, clock);
  const counter = new AttemptCounter(db, clock);
  const { credentials } = config;
  const signupRule = slidingWindow(credentials.signupsPerHour, 60 * 60_000);
  // Per user for a stolen token guessing the current password; per address for scrypt load.
  const passwordChangeRules = {
    user: slidingWindow(credentials.passwordChangesPer15Min, 15 * 60_000),
    address: slidingWindow(credentials.passwordChangesPer15Min * 3, 15 * 60_000),
  };
  // A full scrypt gate answers "retry" before any attempt is counted: a flood is refused
  // without reaching the database (run() still refuses whatever passes this check together).
  const verifyToken = createTokenVerifier(tokenSettings, clock);
  const tokenOwner = createTokenOwnerLookup(db);
  const refuseWhenBusy = () => {
    if (!passwords.gate.hasRoom()) throw passwords.gate.busy();
  };

  /**
   * Every login is a session: access tokens last JWT_TTL_S, the session SESSION_MAX_AGE_S. The
   * session starts in the transaction of `change` (which records its audit event), for the user
   * it returns.
   */
  const issueAfter = async (
    change: (tx: Tx, now: Date) => Promise<UserRow>,
  ): Promise<AuthResult> => {
    const now = clock.now();
    const { user, started } = await db.transaction(async (tx) => {
      const user = await change(tx, now);
      return {
        user,
        started: await startSession(tx, user, now, config.sessionMaxAgeSeconds, random),
      };
    });
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

  /** Logout: the session ends and its event is recorded together; an ended one records nothing. */
  const endAudited = (actor: AuditActor & { userId: string }, sessionId: string) =>
    db.transaction(async (tx) => {
      const now = clock.now();
      const ended = await endSession(tx, sessionId, actor.userId, now);
      if (ended)
        await recordAudit(tx, actor, 'auth.logout', { type: 'user', id: actor.userId }, now);
      return ended;
    });

  /** The login itself; login() counts its outcome in the metrics. */
  const checkLogin = async (input: unknown, clientAddress: string): Promise<AuthResult> => {
    const parsed = parseInput(loginSchema, input);
    const email = parsed.email.trim().toLowerCase();
    const subject = rateLimitSubject(clientAddress);
    refuseWhenBusy();
    const attempt = await limiter.begin(email, subject);
    const { user, ok } = await attempt.check(async () => {
      const [found] = await db
        .select()
        .from(users)
        .where(eq(sql`lower(${users.email})`, email));
      return {
        user: found,
        ok: found
          ? await passwords.verify(parsed.password, found.passwordHash)
          : await passwords.verifyAgainstDummy(parsed.password),
      };
    });
    if (!user || !ok) {
      // No session, so no actor: the account's organisation sees the failure (never the
      // password, nor an unknown email's text, which is often a mistyped password).
      await recordAudit(
        db,
        { organisationId: user?.organisationId ?? null, userId: null, clientAddress },
        'auth.login',
        user ? { type: 'user', id: user.id } : null,
        clock.now(),
        'failure',
      );
      throw new InvalidCredentialsError();
    }
    await attempt.succeeded();
    return issueAfter(async (tx, now) => {
      await recordAudit(
        tx,
        { organisationId: user.organisationId, userId: user.id, clientAddress },
        'auth.login',
        { type: 'user', id: user.id },
        now,
      );
      return user;
    });
  };

  return {
    /**
     * Creates an organisation on the free plan with its owner, and logs the owner in. An email
     * that already has an account gets login's answer to a wrong password (after a real check
     * of its password), never "exists". Counted per client address before any scrypt.
     */
    async signup(input: unknown, clientAddress = ''): Promise<AuthResult> {
      const { organisationName, email, password } = parseInput(signupSchema, input);
      const subject = rateLimitSubject(clientAddress);
      refuseWhenBusy();
      const attempt = await counter.take(`signup\n${subject}`, signupRule);
      if (!attempt.ok) {
        throw new RateLimitedError(
          attempt.retryAfterSeconds,
          `Too many signups from this address; try again in ${attempt.retryAfterSeconds} s`,
        );
      }
      const refuseLikeLogin = async (storedHash: string): Promise<never> => {
        await passwords.verify(password, storedHash);
        throw new InvalidCredentialsError();
      };
      const user = await counter
        .whileCounted([attempt.id], async () => {
          const [existing] = await db
            .select({ passwordHash: users.passwordHash })
            .from(users)
            .where(eq(sql`lower(${users.email})`, email));
          if (existing) return await refuseLikeLogin(existing.passwordHash);
          const passwordHash = await passwords.hash(password);
          const now = clock.now();
          const created = await db.transaction(async (tx) => {
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
            // A concurrent signup with the same email won the unique index: no organisation.
            if (!row) throw new EmailTaken();
            await recordAudit(
              tx,
              { organisationId, userId: row.id, clientAddress },
              'auth.signup',
              { type: 'organisation', id: organisationId },
              now,
            );
            return row;
          });
          await limiter.rememberSource(email, subject);
          return created;
        })
        .catch((err) => {
          if (err instanceof EmailTaken) throw new InvalidCredentialsError();
          throw err;
        });
      return issueAfter(async () => user);
    },

    /**
     * Unknown email and wrong password give the same error after the same work. The attempt is
     * counted before the password is checked (per email and address, and per account), so
     * concurrent guesses cannot pass the limits (see LoginLimiter).
     */
    async login(input: unknown, clientAddress = ''): Promise<AuthResult> {
      try {
        const result = await checkLogin(input, clientAddress);
        deps.metrics.logins.outcome('ok');
        return result;
      } catch (err) {
        deps.metrics.logins.outcome(loginOutcome(err));
        throw err;
      }
    },

    /**
     * Token -> session. The user must still exist, the token must postdate any password change,
     * and its login must not have been ended by logout (one statement either way).
     */
    async authenticate(token: string): Promise<AuthenticatedSession> {
      const claims = await verifyToken(token);
      const user = await tokenOwner(claims);
      if (!user || user.tokenVersion !== claims.version) {
        throw new UnauthenticatedError('Token no longer valid; log in again');
      }
      if (user.endedAt) {
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
      const { sessionId } = session;
      if (!sessionId) return false;
      return endAudited(session, sessionId);
    },

    /** Ends the login a refresh token belongs to (the browser's cookie logout). */
    async logoutByRefreshToken(refreshToken: string, clientAddress = ''): Promise<boolean> {
      const found = await findLiveSession(db, refreshToken, clock.now()).catch((err) => {
        if (err instanceof SessionExpiredError) return null;
        throw err;
      });
      if (!found) return false;
      const { user } = found;
      return endAudited(
        { userId: user.id, organisationId: user.organisationId, clientAddress },
        found.session.id,
      );
    },

    /**
     * Changing the password ends every token issued before; the caller gets a fresh one.
     * Attempts are counted per user and per client address before the current password is
     * checked; a success clears the user's count.
     */
    async changePassword(
      session: Session,
      input: unknown,
      clientAddress = '',
    ): Promise<AuthResult> {
      const { currentPassword, newPassword } = parseInput(changePasswordSchema, input);
      const userKey = `password\nuser\n${session.userId}`;
      refuseWhenBusy();
      const taken = [
        await counter.take(userKey, passwordChangeRules.user),
        await counter.take(
          `password\naddress\n${rateLimitSubject(clientAddress)}`,
          passwordChangeRules.address,
        ),
      ];
      const counted = taken.flatMap((t) => (t.ok ? [t.id] : []));
      const refused = taken.find((t) => !t.ok);
      if (refused && !refused.ok) {
        await counter.release(...counted);
        throw new RateLimitedError(
          refused.retryAfterSeconds,
          `Too many password changes; try again in ${refused.retryAfterSeconds} s`,
        );
      }
      return counter.whileCounted(counted, async () => {
        const [user] = await db.select().from(users).where(eq(users.id, session.userId));
        if (!user) throw new UnauthenticatedError();
        const object = { type: 'user', id: user.id } as const;
        if (!(await passwords.verify(currentPassword, user.passwordHash))) {
          await recordAudit(db, session, 'user.password_changed', object, clock.now(), 'failure');
          throw new ValidationError('currentPassword', 'currentPassword: does not match');
        }
        const passwordHash = await passwords.hash(newPassword);
        const result = await issueAfter(async (tx, now) => {
          const [updated] = await tx
            .update(users)
            .set({
              passwordHash,
              tokenVersion: sql`${users.tokenVersion} + 1`,
              passwordChangedAt: now,
            })
            .where(eq(users.id, user.id))
            .returning();
          await recordAudit(tx, session, 'user.password_changed', object, now);
          return updated!;
        });
        await counter.clear(userKey);
        return result;
      });
    },
  };
}

function loginOutcome(err: unknown): LoginOutcome {
  if (err instanceof InvalidCredentialsError) return 'invalid_credentials';
  if (err instanceof RateLimitedError) return 'throttled';
  if (err instanceof ServiceUnavailableError) return 'busy';
  if (err instanceof ValidationError) return 'invalid_input';
  return 'error';
}
