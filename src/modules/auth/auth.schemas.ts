import { z } from 'zod';
import { ROLES } from './session.ts';

export const emailSchema = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'))
  .transform((e) => e.toLowerCase());

export const passwordSchema = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(256, 'must be at most 256 characters');

export const organisationNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters');

export const signupSchema = z.object({
  organisationName: organisationNameSchema,
  email: emailSchema,
  password: passwordSchema,
});

/** Login only bounds sizes: a wrong shape is just a wrong credential. */
export const loginSchema = z.object({
  email: z.string().max(254, 'must be at most 254 characters'),
  password: z.string().max(256, 'must be at most 256 characters'),
});

export const createUserSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  role: z.enum(ROLES, 'must be one of owner, admin, viewer'),
});

export const changePasswordSchema = z.object({
  currentPassword: z.string().max(256, 'must be at most 256 characters'),
  newPassword: passwordSchema,
});

export const updateRoleSchema = z.object({
  role: z.enum(ROLES, 'must be one of owner, admin, viewer'),
});
