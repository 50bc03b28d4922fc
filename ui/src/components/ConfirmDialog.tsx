import { type ReactNode, useState } from 'react';
import { Dialog } from './Dialog.tsx';
import { DialogActions } from './DialogActions.tsx';

interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  /** The button's text, e.g. "Revoke key". */
  confirmLabel: string;
  /** When set, the user must type this (e.g. the tenant's name) before the button works. */
  typeToConfirm?: string;
  busy?: boolean;
  error?: string | null;
  onConfirm(): void;
  onClose(): void;
}

/** A destructive action's last question, its button apart from the harmless one. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  typeToConfirm,
  busy,
  error,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const [typed, setTyped] = useState('');
  const ready = !typeToConfirm || typed.trim() === typeToConfirm;
  const close = () => {
    setTyped('');
    onClose();
  };
  return (
    <Dialog open={open} title={title} onClose={close} className="confirm-dialog">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (ready && !busy) onConfirm();
        }}
      >
        <div className="confirm-text">{children}</div>
        {typeToConfirm && (
          <div className="field">
            <label htmlFor="confirm-input">
              Type <strong className="confirm-name">{typeToConfirm}</strong> to confirm
            </label>
            <input
              id="confirm-input"
              autoComplete="off"
              spellCheck={false}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
            />
          </div>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <DialogActions
          onCancel={close}
          label={confirmLabel}
          busyLabel="Working…"
          busy={busy}
          disabled={!ready}
          tone="danger"
        />
      </form>
    </Dialog>
  );
}
