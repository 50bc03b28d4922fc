import { useState } from 'react';
import { useMutation } from 'urql';
import { Dialog } from '../../components/Dialog.tsx';
import { DialogActions } from '../../components/DialogActions.tsx';
import { ErrorNotice, messageOf } from '../../components/Notice.tsx';
import { readFragment } from '../../graphql.ts';
import { type IssuedKey, IssuedKeyFields, RollApiKeyMutation } from './documents.ts';

/** Unkey's choices: how long the old secret keeps working while collectors switch. */
const GRACE_CHOICES = [
  { seconds: 0, label: 'Stop now' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 604_800, label: '7 days' },
] as const;

export function RollKeyDialog({
  apiKey,
  onClose,
  onIssued,
}: {
  apiKey: { id: string; displayName: string; prefix: string } | null;
  onClose(): void;
  onIssued(key: IssuedKey): void;
}) {
  const [grace, setGrace] = useState(3600);
  const [failure, setFailure] = useState<string | null>(null);
  const [{ fetching }, roll] = useMutation(RollApiKeyMutation);

  const close = () => {
    setGrace(3600);
    setFailure(null);
    onClose();
  };
  const submit = async () => {
    if (!apiKey) return;
    setFailure(null);
    const result = await roll({ id: apiKey.id, gracePeriodSeconds: grace });
    const answer = result.data?.rollApiKey;
    if (result.error || !answer) setFailure(result.error ? messageOf(result.error) : 'No answer');
    else if (answer.__typename === 'IssuedApiKey') {
      setGrace(3600);
      onIssued(readFragment(IssuedKeyFields, answer));
    } else setFailure(answer.message);
  };

  return (
    <Dialog open={apiKey !== null} title="Roll API key" onClose={close}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p>
          A new secret replaces <code>{apiKey?.prefix}…</code> of{' '}
          <strong>{apiKey?.displayName}</strong>; the key keeps its name and scopes.
        </p>
        <fieldset className="field">
          <legend>The old secret keeps working for</legend>
          {GRACE_CHOICES.map((choice) => (
            <label key={choice.seconds} className="radio">
              <input
                type="radio"
                name="grace"
                value={choice.seconds}
                checked={grace === choice.seconds}
                onChange={() => setGrace(choice.seconds)}
              />
              {choice.label}
            </label>
          ))}
        </fieldset>
        {grace === 0 && (
          <p className="notice warning">
            Collectors still using the old secret are refused within 15 seconds.
          </p>
        )}
        <ErrorNotice error={failure} />
        <DialogActions onCancel={close} label="Roll key" busyLabel="Rolling…" busy={fetching} />
      </form>
    </Dialog>
  );
}
