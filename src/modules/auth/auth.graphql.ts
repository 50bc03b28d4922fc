import { builder } from '../../graphql/builder.ts';
import { sessionOf } from '../../graphql/context.ts';
import {
  InvalidCredentialsError,
  RateLimitedError,
  SessionExpiredError,
  ValidationError,
} from '../../lib/errors.ts';
import { UserRef } from '../organisations/organisations.graphql.ts';
import type { AuthResult } from './auth.service.ts';

const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  description: 'A bearer token (JWT) for "Authorization: Bearer <token>".',
  fields: (t) => ({
    token: t.exposeString('token'),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      description: 'When this access token stops working (JWT_TTL_S, at most the session end).',
    }),
    refreshToken: t.exposeString('refreshToken', {
      nullable: true,
      description:
        'Renews the access token with `refreshToken` until sessionExpiresAt; only when a session starts (login, signup, password change). Keep it secret.',
    }),
    sessionExpiresAt: t.expose('sessionExpiresAt', {
      type: 'DateTime',
      description: 'When the login ends however often it is refreshed (SESSION_MAX_AGE_S).',
    }),
    user: t.field({ type: UserRef, resolve: (r) => r.user }),
  }),
});

builder.mutationFields((t) => ({
  signup: t.field({
    type: AuthPayload,
    description:
      'Creates an organisation on the free plan with you as its owner. An email that already has an account gets InvalidCredentialsError, as a wrong-password login would; signups are limited per client address.',
    errors: {
      types: [ValidationError, InvalidCredentialsError, RateLimitedError],
      directResult: true,
    },
    args: {
      organisationName: t.arg.string({ required: true }),
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true, description: '10 to 256 characters.' }),
    },
    resolve: (_root, args, ctx) => ctx.services.auth.signup(args, ctx.clientAddress),
  }),
  login: t.field({
    type: AuthPayload,
    errors: {
      types: [InvalidCredentialsError, RateLimitedError, ValidationError],
      directResult: true,
    },
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.auth.login(args, ctx.clientAddress),
  }),
  refreshToken: t.field({
    type: AuthPayload,
    description:
      'A fresh access token for the session of a refresh token; the refresh token stays the same.',
    errors: { types: [SessionExpiredError], directResult: true },
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.auth.refresh(args.refreshToken),
  }),
  logout: t.boolean({
    description:
      "Ends the caller's session: its refresh token and access tokens stop working at once. False for a token that belongs to no session.",
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.services.auth.logout(sessionOf(ctx)),
  }),
  changePassword: t.field({
    type: AuthPayload,
    description:
      'Every token issued before stops working; use the one returned. Attempts are limited per user and per client address.',
    authScopes: { authenticated: true },
    errors: { types: [ValidationError, RateLimitedError], directResult: true },
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.auth.changePassword(sessionOf(ctx), args, ctx.clientAddress),
  }),
}));
