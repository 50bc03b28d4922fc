import { useState } from 'react';
import { useMutation } from 'urql';
import { Dialog } from '../../components/Dialog.tsx';
import { DialogActions } from '../../components/DialogActions.tsx';
import { fieldMessage } from '../../components/field-message.ts';
import { ErrorNotice, messageOf } from '../../components/Notice.tsx';
import { readFragment } from '../../graphql.ts';
import { Field } from '../auth/Field.tsx';
import { CreateApiKeyMutation, type IssuedKey, IssuedKeyFields } from './documents.ts';

const SCOPES = [
  { scope: 'metrics:write', label: 'Write metrics' },
  { scope: 'logs:write', label: 'Write logs' },
  { scope: 'traces:write', label: 'Write traces' },
  { scope: 'metrics:read', label: 'Read metrics' },
  { scope: 'logs:read', label: 'Read logs' },
  { scope: 'traces:read', label: 'Read traces' },
] as const;
const DEFAULT_SCOPES = ['metrics:write', 'logs:write', 'traces:write'];

/** Name, scopes and an optional expiry; the key itself comes back once, in KeyCreatedDialog. */
export function CreateKeyDialog({
  open,
  tenantId,
  onClose,
  onIssued,
}: {
  open: boolean;
  tenantId: string;
  onClose(): void;
  onIssued(key: IssuedKey): void;
}) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(DEFAULT_SCOPES);
  const [expires, setExpires] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [{ fetching }, create] = useMutation(CreateApiKeyMutation);

  const close = () => {
    setName('');
    setScopes(DEFAULT_SCOPES);
    setExpires('');
    setErrors({});
    setFailure(null);
    onClose();
  };

  const submit = async () => {
    setErrors({});
    setFailure(null);
    if (name.trim() === '')
      return setErrors({ displayName: 'Enter a name, e.g. k8s-prod-collector-1' });
    if (scopes.length === 0) return setErrors({ scopes: 'Choose at least one scope' });
    // A date means the end of that day, UTC.
    const expiresAt = expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null;
    const result = await create({ tenantId, displayName: name, scopes, expiresAt });
    const answer = result.data?.createApiKey;
    if (result.error || !answer) {
      setFailure(result.error ? messageOf(result.error) : 'No answer from the portal');
      return;
    }
    if (answer.__typename === 'IssuedApiKey') {
      const issued = readFragment(IssuedKeyFields, answer);
      setName('');
      setScopes(DEFAULT_SCOPES);
      setExpires('');
      onIssued(issued);
    } else if (answer.__typename === 'ValidationError') {
      const field = ['displayName', 'scopes', 'expiresAt'].includes(answer.field)
        ? answer.field
        : null;
      if (field) setErrors({ [field]: fieldMessage(field, answer.message) });
      else setFailure(answer.message);
    } else {
      setFailure(answer.message);
    }
  };

  return (
    <Dialog open={open} title="Create API key" onClose={close}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field
          label="Name"
          name="displayName"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={errors.displayName}
          hint="Where it is used, e.g. k8s-prod-collector-1 or backup-key."
          autoComplete="off"
        />
        <fieldset className={errors.scopes ? 'field invalid' : 'field'}>
          <legend>Scopes</legend>
          <div className="checkbox-grid">
            {SCOPES.map(({ scope, label }) => (
              <label key={scope} className="checkbox">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) =>
                    setScopes((current) =>
                      e.target.checked ? [...current, scope] : current.filter((s) => s !== scope),
                    )
                  }
                />
                {label} <code>{scope}</code>
              </label>
            ))}
          </div>
          {errors.scopes && <p className="field-error">{errors.scopes}</p>}
        </fieldset>
        <Field
          label="Expires (optional)"
          name="expiresAt"
          type="date"
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
          error={errors.expiresAt}
          hint="Leave empty for a key that does not expire. It stops at the end of that day (UTC)."
        />
        <ErrorNotice error={failure} />
        <DialogActions onCancel={close} label="Create key" busyLabel="Creating…" busy={fetching} />
      </form>
    </Dialog>
  );
}
