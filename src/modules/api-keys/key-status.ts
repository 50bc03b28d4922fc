import type { ApiKeyRow } from '../../db/schema.ts';

export const API_KEY_STATUSES = ['active', 'expiring', 'in_grace', 'expired', 'revoked'] as const;
export type ApiKeyStatus = (typeof API_KEY_STATUSES)[number];

/** A key this close to its expiry is shown as expiring, so someone rolls it in time. */
export const EXPIRING_WITHIN_MS = 7 * 86_400_000;

/**
 * What a key can do now, as verification sees it: revoked and expired keys are refused;
 * in_grace means a roll's previous secret still works until previousExpiresAt.
 */
export function apiKeyStatus(
  key: Pick<ApiKeyRow, 'revokedAt' | 'expiresAt' | 'previousExpiresAt'>,
  now: Date,
): ApiKeyStatus {
  const t = now.getTime();
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && key.expiresAt.getTime() <= t) return 'expired';
  if (key.previousExpiresAt && key.previousExpiresAt.getTime() > t) return 'in_grace';
  if (key.expiresAt && key.expiresAt.getTime() - t <= EXPIRING_WITHIN_MS) return 'expiring';
  return 'active';
}
