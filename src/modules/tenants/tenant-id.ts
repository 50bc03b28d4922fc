import { base32, type RandomSource } from '../../lib/ids.ts';

export const TENANT_ID_PATTERN = /^xs_[a-z0-9]{1,20}_[a-z2-7]{8}$/;
const MAX_SLUG = 20;

/**
 * The slug is the first word of the display name folded to ASCII lower case: accents are
 * dropped ("Zürich" -> "zurich"), anything outside [a-z0-9] separates words, at most 20
 * characters, and "tenant" when nothing is left ("日本 サービス").
 */
export function slugify(displayName: string): string {
  const folded = displayName
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .toLowerCase();
  const firstWord = folded.split(/[^a-z0-9]+/).find((w) => w.length > 0);
  return firstWord ? firstWord.slice(0, MAX_SLUG) : 'tenant';
}

/** `xs_<slug>_<8 chars of base32>`: 40 random bits from the CSPRNG. */
export function generateTenantId(displayName: string, random: RandomSource): string {
  return `xs_${slugify(displayName)}_${base32(random(5))}`;
}
