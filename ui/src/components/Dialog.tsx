import './components.css';
import { type ReactNode, useEffect, useId, useRef } from 'react';

interface DialogProps {
  open: boolean;
  title: string;
  /** Called when the user asks to close (Escape, the close button, a Cancel). */
  onClose(): void;
  children: ReactNode;
  /** Asked before closing; return false to keep the dialog open (e.g. an unsaved secret). */
  confirmClose?: () => boolean;
  className?: string;
  /** Shown under the title, announced as the dialog's description. */
  description?: ReactNode;
}

/**
 * A modal on the native <dialog>: showModal() traps focus, makes the page behind inert and closes
 * on Escape; focus returns to whatever opened it.
 */
export function Dialog({
  open,
  title,
  onClose,
  children,
  confirmClose,
  className,
  description,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      // showModal() focuses the first focusable element, the close button; a form's first field
      // is where the user means to start. (React's autoFocus fires before the dialog is open.)
      dialog
        .querySelector<HTMLElement>('input:not([type="hidden"]):not([disabled]), select, textarea')
        ?.focus();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);

  const requestClose = () => {
    if (confirmClose && !confirmClose()) return;
    onClose();
  };

  return (
    <dialog
      ref={ref}
      className={className ? `dialog ${className}` : 'dialog'}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      onCancel={(event) => {
        // Escape: the browser would close it behind React's back; let the owner decide.
        event.preventDefault();
        requestClose();
      }}
    >
      {open && (
        <div className="dialog-body">
          <header className="dialog-header">
            <h2 id={titleId}>{title}</h2>
            <button
              type="button"
              className="icon-button"
              aria-label="Close"
              title="Close"
              onClick={requestClose}
            >
              ×
            </button>
          </header>
          {description && (
            <div id={descriptionId} className="dialog-description">
              {description}
            </div>
          )}
          {children}
        </div>
      )}
    </dialog>
  );
}
