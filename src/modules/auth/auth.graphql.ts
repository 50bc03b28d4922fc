import { builder } from '../../graphql/builder.ts';
import { sessionOf } from '../../graphql/context.ts';
import {
  ConflictError,
  InvalidCredentialsError,
  RateLimitedError,
  ValidationError,
} from '../../lib/errors.ts';
import { UserRef } from '../organisations/organisations.graphql.ts';
import type { AuthResult } from './auth.service.ts';

const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  description: 'A bearer token (JWT) for "Authorization: Bearer <token>".',
  fields: (t) => ({
    token: t.exposeString('token'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    user: t.field({ type: UserRef, resolve: (r) => r.user }),
  }),
});

builder.mutationFields((t) => ({
  signup: t.field({
    type: AuthPayload,
    description: 'Creates an organisation on the free plan with you as its owner.',
    errors: { types: [ValidationError, ConflictError], directResult: true },
    args: {
      organisationName: t.arg.string({ required: true }),
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true, description: '10 to 256 characters.' }),
    },
    resolve: (_root, args, ctx) => ctx.services.auth.signup(args),
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
  changePassword: t.field({
    type: AuthPayload,
    description: 'Every token issued before stops working; use the one returned.',
    authScopes: { authenticated: true },
    errors: { types: [ValidationError], directResult: true },
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => ctx.services.auth.changePassword(sessionOf(ctx), args),
  }),
}));
