export const SCOPES = [
  'metrics:write',
  'logs:write',
  'traces:write',
  'metrics:read',
  'logs:read',
  'traces:read',
] as const;
export type Scope = (typeof SCOPES)[number];

export const DEFAULT_SCOPES: Scope[] = ['metrics:write', 'logs:write', 'traces:write'];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
