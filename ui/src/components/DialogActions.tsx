/**
 * A dialog's footer: Cancel on the left, the one action on the right, far from it (a
 * destructive button is never next to a harmless one).
 */
export function DialogActions({
  onCancel,
  label,
  busyLabel,
  busy = false,
  disabled = false,
  tone = 'primary',
}: {
  onCancel(): void;
  /** The submit button's text, e.g. "Create". */
  label: string;
  /** Shown while the request runs, e.g. "Creating…". */
  busyLabel: string;
  busy?: boolean | undefined;
  disabled?: boolean | undefined;
  tone?: 'primary' | 'danger';
}) {
  return (
    <div className="dialog-actions">
      <button type="button" className="button secondary" onClick={onCancel}>
        Cancel
      </button>
      <span className="spacer" />
      <button type="submit" className={`button ${tone}`} disabled={busy || disabled}>
        {busy ? busyLabel : label}
      </button>
    </div>
  );
}
