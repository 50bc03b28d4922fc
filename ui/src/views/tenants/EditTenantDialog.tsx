import { useEffect, useState } from 'react';
import { useMutation } from 'urql';
import { Dialog } from '../../components/Dialog.tsx';
import { DialogActions } from '../../components/DialogActions.tsx';
import { fieldMessage } from '../../components/field-message.ts';
import { ErrorNotice, messageOf } from '../../components/Notice.tsx';
import { Field } from '../auth/Field.tsx';
import { UpdateTenantMutation } from './documents.ts';
import { ENVIRONMENT_LABELS, ENVIRONMENTS, type Environment } from './environments.ts';

/** Rename and change environment; the ID never changes. */
export function EditTenantDialog({
  open,
  tenant,
  onClose,
}: {
  open: boolean;
  tenant: { id: string; displayName: string; environment: Environment };
  onClose(): void;
}) {
  const [displayName, setDisplayName] = useState(tenant.displayName);
  const [environment, setEnvironment] = useState<Environment>(tenant.environment);
  const [error, setError] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [{ fetching }, update] = useMutation(UpdateTenantMutation);

  useEffect(() => {
    if (!open) return;
    setDisplayName(tenant.displayName);
    setEnvironment(tenant.environment);
    setError(null);
    setFailure(null);
  }, [open, tenant.displayName, tenant.environment]);

  const submit = async () => {
    setError(null);
    setFailure(null);
    const result = await update({
      id: tenant.id,
      displayName: displayName === tenant.displayName ? null : displayName,
      environment: environment === tenant.environment ? null : environment,
    });
    const answer = result.data?.updateTenant;
    if (result.error || !answer) setFailure(result.error ? messageOf(result.error) : 'No answer');
    else if (answer.__typename === 'Tenant') onClose();
    else if (answer.__typename === 'ValidationError' && answer.field === 'displayName') {
      setError(fieldMessage('displayName', answer.message));
    } else setFailure(answer.message);
  };

  const unchanged = displayName === tenant.displayName && environment === tenant.environment;
  return (
    <Dialog open={open} title="Edit tenant" onClose={onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!unchanged) void submit();
        }}
      >
        <p className="muted">
          The ID <code>{tenant.id}</code> stays the same.
        </p>
        <Field
          label="Display Name"
          name="displayName"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={error ?? undefined}
          autoComplete="off"
        />
        <div className="field">
          <label htmlFor="edit-tenant-environment">Environment</label>
          <select
            id="edit-tenant-environment"
            value={environment}
            onChange={(e) => setEnvironment(e.target.value as Environment)}
          >
            {ENVIRONMENTS.map((env) => (
              <option key={env} value={env}>
                {ENVIRONMENT_LABELS[env]}
              </option>
            ))}
          </select>
        </div>
        <ErrorNotice error={failure} />
        <DialogActions
          onCancel={onClose}
          label="Save"
          busyLabel="Saving…"
          busy={fetching}
          disabled={unchanged}
        />
      </form>
    </Dialog>
  );
}
