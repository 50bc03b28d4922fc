import { useEffect, useState } from 'react';
import { CopyButton } from '../../components/CopyButton.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { formatDateTime } from '../../components/format.ts';
import { CollectorConfig } from './CollectorConfig.tsx';
import type { IssuedKey } from './documents.ts';

const mask = (key: string) => `${key.slice(0, 8)}${'•'.repeat(Math.max(0, key.length - 8))}`;

/**
 * The one time the full key is shown: masked until revealed, copyable, with the collector
 * configuration filled in. Closing (button, Escape) or leaving the tab warns once.
 */
export function KeyCreatedDialog({
  issued,
  rolled,
  onClose,
}: {
  issued: IssuedKey | null;
  rolled: boolean;
  onClose(): void;
}) {
  const [revealed, setRevealed] = useState(false);
  const [warned, setWarned] = useState(false);
  const open = issued !== null;

  useEffect(() => {
    if (!open) return;
    // Leaving the page would lose the key for good: the browser asks first.
    const guard = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', guard);
    return () => window.removeEventListener('beforeunload', guard);
  }, [open]);

  const close = () => {
    setRevealed(false);
    setWarned(false);
    onClose();
  };

  const key = issued?.key ?? '';
  const apiKey = issued?.apiKey;
  return (
    <Dialog
      open={open}
      title={rolled ? 'Key rolled: save the new secret' : 'API key created: save it now'}
      className="key-created-dialog wide"
      onClose={close}
      confirmClose={() => {
        if (warned) return true;
        setWarned(true);
        return false;
      }}
    >
      <p className="notice warning" role="note">
        This is the only time the full key is shown. Store it in your secret manager now: the portal
        keeps only its first 8 characters.
      </p>
      {apiKey && (
        <dl className="key-facts">
          <dt>Name</dt>
          <dd>{apiKey.displayName}</dd>
          <dt>Scopes</dt>
          <dd>{apiKey.scopes.join(', ')}</dd>
          {rolled && apiKey.previousPrefix && (
            <>
              <dt>Previous secret</dt>
              <dd>
                <code>{apiKey.previousPrefix}…</code>{' '}
                {apiKey.previousExpiresAt
                  ? `keeps working until ${formatDateTime(apiKey.previousExpiresAt)}`
                  : 'stopped working now'}
              </dd>
            </>
          )}
        </dl>
      )}
      <div className="secret-row">
        <label htmlFor="issued-key" className="visually-hidden">
          API key
        </label>
        <input
          id="issued-key"
          className="secret"
          readOnly
          value={revealed ? key : mask(key)}
          data-testid="issued-key"
          spellCheck={false}
          onFocus={(e) => revealed && e.target.select()}
        />
        <button
          type="button"
          className="button secondary"
          aria-pressed={revealed}
          onClick={() => setRevealed((r) => !r)}
        >
          {revealed ? 'Hide' : 'Reveal'}
        </button>
        <CopyButton text={key} label="Copy API key" />
      </div>
      {issued && (
        <CollectorConfig
          config={issued.clientConfig}
          title="Collector configuration with this key"
          withKey
          mask={revealed ? undefined : (text) => text.replaceAll(key, mask(key))}
        />
      )}
      {warned && (
        <p className="form-error" role="alert">
          You won't see this key again. Close anyway?
        </p>
      )}
      <div className="dialog-actions">
        <span className="spacer" />
        <button
          type="button"
          className="button primary"
          onClick={() => (warned ? close() : setWarned(true))}
        >
          {warned ? 'Close, I saved it' : "I've saved the key"}
        </button>
      </div>
    </Dialog>
  );
}
