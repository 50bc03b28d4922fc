import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { clientAddress } from '../../http/client-address.ts';
import { formatDateTime } from '../../lib/datetime.ts';
import { defineRoute, type RestRoute } from '../../rest/rest-router.ts';
import { timestampResponse } from '../../rest/wire.ts';
import type { Services } from '../../services.ts';
import { presentUser, userResponse } from '../organisations/users.rest.ts';
import { changePasswordSchema, loginSchema, signupSchema } from './auth.schemas.ts';
import type { AuthResult } from './auth.service.ts';

const tokenResponse = z.object({
  token: z.string().meta({ description: 'Send as "Authorization: Bearer <token>".' }),
  expires_at: timestampResponse,
  refresh_token: z.string().meta({
    description:
      'Renews the access token (GraphQL `refreshToken`) until session_expires_at; keep it secret.',
  }),
  session_expires_at: timestampResponse,
});
const signupResponse = tokenResponse.extend({ user: userResponse });

const presentToken = (r: AuthResult) => ({
  token: r.token,
  expires_at: formatDateTime(r.expiresAt),
  refresh_token: r.refreshToken!,
  session_expires_at: formatDateTime(r.sessionExpiresAt),
});

const loginBody = z.strictObject({
  email: loginSchema.shape.email,
  password: loginSchema.shape.password,
});
const signupBody = z.strictObject({
  organisation_name: signupSchema.shape.organisationName,
  email: signupSchema.shape.email,
  password: signupSchema.shape.password,
});
const passwordBody = z.strictObject({
  current_password: changePasswordSchema.shape.currentPassword,
  new_password: changePasswordSchema.shape.newPassword,
});

export function authRoutes(
  { auth }: Services,
  config: Pick<Config, 'trustedProxies'>,
): RestRoute[] {
  // Behind a trusted proxy the client is named by X-Forwarded-For; otherwise the socket's peer.
  const addressOf = (req: IncomingMessage) => clientAddress(req, config.trustedProxies);
  return [
    defineRoute({
      method: 'POST',
      path: '/auth/login',
      tag: 'Auth',
      summary:
        'Log in; too many attempts for one email from one address, or for one account, are refused with 429.',
      auth: false,
      body: loginBody,
      response: tokenResponse,
      errors: [401, 429, 503],
      handle: async ({ req, body }) => presentToken(await auth.login(body, addressOf(req))),
    }),
    defineRoute({
      method: 'POST',
      path: '/auth/signup',
      tag: 'Auth',
      summary:
        'Create an organisation (free plan) with you as its owner, and log in; an email that has an account gets 401 as a wrong-password login would.',
      auth: false,
      body: signupBody,
      status: 201,
      response: signupResponse,
      errors: [401, 429, 503],
      handle: async ({ req, body }) => {
        const result = await auth.signup(
          {
            organisationName: body.organisation_name,
            email: body.email,
            password: body.password,
          },
          addressOf(req),
        );
        return { ...presentToken(result), user: presentUser(result.user) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/auth/password',
      tag: 'Auth',
      summary: 'Change your password; every earlier token stops working, use the one returned.',
      auth: true,
      body: passwordBody,
      response: tokenResponse,
      errors: [429, 503],
      handle: async ({ req, session, body }) =>
        presentToken(
          await auth.changePassword(
            session,
            { currentPassword: body.current_password, newPassword: body.new_password },
            addressOf(req),
          ),
        ),
    }),
  ];
}
