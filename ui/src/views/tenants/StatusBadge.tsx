const LABELS: Record<string, string> = {
  active: 'Active',
  suspended: 'Suspended',
  expiring: 'Expiring',
  in_grace: 'In grace',
  expired: 'Expired',
  revoked: 'Revoked',
};

/** A status in words and colour (colour is never the only cue). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{LABELS[status] ?? status}</span>;
}
