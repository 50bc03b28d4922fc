/** RFC 3339 in UTC, whole seconds, as the guide prints them: 2026-06-18T10:00:00Z. */
export function formatDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 date-time with a zone (no flags, so it doubles as a JSON Schema pattern). */
export const RFC3339_PATTERN =
  /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** True for an RFC 3339 string that also names a real instant. */
export function isDateTime(value: unknown): value is string {
  return (
    typeof value === 'string' && RFC3339_PATTERN.test(value) && !Number.isNaN(Date.parse(value))
  );
}
