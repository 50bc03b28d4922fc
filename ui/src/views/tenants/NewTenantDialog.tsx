import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { Dialog } from '../../components/Dialog.tsx';
import { DialogActions } from '../../components/DialogActions.tsx';
import { fieldMessage } from '../../components/field-message.ts';
import { ErrorNotice, messageOf } from '../../components/Notice.tsx';
import { Field } from '../auth/Field.tsx';
import { CreateTenantMutation, RegionsQuery } from './documents.ts';
import { ENVIRONMENT_LABELS, ENVIRONMENTS, type Environment } from './environments.ts';

const DISPLAY_NAME_MAX = 100;

interface Created {
  id: string;
  displayName: string;
}

/** The guide's New Tenant modal: Display Name, Environment, (Region), Create. */
export function NewTenantDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose(): void;
  onCreated(tenant: Created): void;
}) {
  const [displayName, setDisplayName] = useState('');
  const [environment, setEnvironment] = useState<Environment>('prod');
  const [region, setRegion] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [planLimit, setPlanLimit] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [{ data: regions }] = useQuery({ query: RegionsQuery, pause: !open });
  const [{ fetching }, create] = useMutation(CreateTenantMutation);

  const reset = () => {
    setDisplayName('');
    setEnvironment('prod');
    setRegion('');
    setFieldErrors({});
    setPlanLimit(null);
    setFailure(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const regionList = regions?.regions ?? [];
  const shownFields = ['displayName', 'environment', ...(regionList.length > 1 ? ['region'] : [])];

  const submit = async () => {
    setFieldErrors({});
    setPlanLimit(null);
    setFailure(null);
    // The server checks too; this saves a round trip for the obvious case.
    if (displayName.trim() === '') {
      setFieldErrors({ displayName: 'Enter a display name' });
      return;
    }
    const result = await create({
      displayName,
      environment,
      region: region || null,
    });
    const answer = result.data?.createTenant;
    if (result.error || !answer) {
      setFailure(result.error ? messageOf(result.error) : 'No answer from the portal');
      return;
    }
    switch (answer.__typename) {
      case 'Tenant':
        reset();
        onCreated(answer);
        return;
      case 'ValidationError':
        if (shownFields.includes(answer.field)) {
          setFieldErrors({ [answer.field]: fieldMessage(answer.field, answer.message) });
        } else {
          setFailure(answer.message);
        }
        return;
      case 'PlanLimitExceededError':
        setPlanLimit(answer.message);
        return;
    }
  };

  return (
    <Dialog open={open} title="New Tenant" onClose={close} className="new-tenant-dialog">
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Field
          label="Display Name"
          name="displayName"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={fieldErrors.displayName}
          hint={`Up to ${DISPLAY_NAME_MAX} characters. The tenant ID is made from its first word.`}
          autoComplete="off"
          required
        />
        <div className={fieldErrors.environment ? 'field invalid' : 'field'}>
          <label htmlFor="new-tenant-environment">Environment</label>
          <select
            id="new-tenant-environment"
            name="environment"
            value={environment}
            onChange={(e) => setEnvironment(e.target.value as Environment)}
            aria-describedby={fieldErrors.environment ? 'new-tenant-environment-error' : undefined}
          >
            {ENVIRONMENTS.map((env) => (
              <option key={env} value={env}>
                {ENVIRONMENT_LABELS[env]}
              </option>
            ))}
          </select>
          {fieldErrors.environment && (
            <p id="new-tenant-environment-error" className="field-error">
              {fieldErrors.environment}
            </p>
          )}
        </div>
        {regionList.length > 1 && (
          <div className={fieldErrors.region ? 'field invalid' : 'field'}>
            <label htmlFor="new-tenant-region">Region</label>
            <select
              id="new-tenant-region"
              name="region"
              value={region || regionList.find((r) => r.isDefault)?.name || ''}
              onChange={(e) => setRegion(e.target.value)}
              aria-describedby={fieldErrors.region ? 'new-tenant-region-error' : undefined}
            >
              {regionList.map((r) => (
                <option key={r.name} value={r.name}>
                  {r.isDefault ? `${r.name} (default)` : r.name}
                </option>
              ))}
            </select>
            {fieldErrors.region && (
              <p id="new-tenant-region-error" className="field-error">
                {fieldErrors.region}
              </p>
            )}
          </div>
        )}
        {planLimit && (
          <div className="form-error plan-limit" role="alert">
            <p>{planLimit}.</p>
            <p>
              <Link href="/users#plans" onClick={close}>
                See plans
              </Link>
            </p>
          </div>
        )}
        <ErrorNotice error={failure} />
        <DialogActions onCancel={close} label="Create" busyLabel="Creating…" busy={fetching} />
      </form>
    </Dialog>
  );
}
