/** What a collector or proxy presented: the key, and for Basic auth the tenant it claims. */
export interface PresentedCredentials {
  key: string;
  tenantId?: string;
}

/** Longer headers are not credentials we issue; refusing early bounds the work per request. */
const MAX_HEADER_LENGTH = 512;

/**
 * `Bearer <key>`, or `Basic base64(<tenant id>:<key>)` as Prometheus remote_write, Grafana Alloy
 * and the OpenTelemetry Collector send it. Anything else is undefined (a plain 401).
 */
export function parseAuthorization(header: string | undefined): PresentedCredentials | undefined {
  if (!header || header.length > MAX_HEADER_LENGTH) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value && !value.includes(' ') ? { key: value } : undefined;
  if (scheme !== 'basic' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { tenantId: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}
