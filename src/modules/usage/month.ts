/** Start of the UTC calendar month containing `at`. */
export function monthStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** Whole seconds elapsed in the UTC month at `at` (0 at the first instant of the month). */
export function secondsIntoMonth(at: Date): number {
  return Math.floor((at.getTime() - monthStart(at).getTime()) / 1000);
}

/** A query template with `$RANGE` set to the month so far, e.g. `[86400s]`. */
export function renderMonthToDate(template: string, at: Date): string | undefined {
  const seconds = secondsIntoMonth(at);
  if (!template.includes('$RANGE')) return template;
  // At the first second of a month nothing has been ingested in it yet.
  return seconds < 1 ? undefined : template.replaceAll('$RANGE', `${seconds}s`);
}
