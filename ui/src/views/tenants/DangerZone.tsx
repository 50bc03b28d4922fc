import { useState } from 'react';
import { useMutation } from 'urql';
import { useLocation } from 'wouter';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { messageOf } from '../../components/Notice.tsx';
import { DeleteTenantMutation, ResumeTenantMutation, SuspendTenantMutation } from './documents.ts';

type Action = 'suspend' | 'resume' | 'delete';

/** Suspend / resume and delete, apart from everything harmless, each behind a confirmation. */
export function DangerZone({
  tenant,
}: {
  tenant: { id: string; displayName: string; status: 'active' | 'suspended' };
}) {
  const [, navigate] = useLocation();
  const [action, setAction] = useState<Action | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [suspendState, suspend] = useMutation(SuspendTenantMutation);
  const [resumeState, resume] = useMutation(ResumeTenantMutation);
  const [deleteState, remove] = useMutation(DeleteTenantMutation);
  const busy = suspendState.fetching || resumeState.fetching || deleteState.fetching;

  const run = async () => {
    setError(null);
    const variables = { id: tenant.id };
    const result =
      action === 'suspend'
        ? await suspend(variables)
        : action === 'resume'
          ? await resume(variables)
          : await remove(variables);
    const data = result.data as
      | Record<string, { __typename: string; message?: string }>
      | undefined;
    const answer = data && Object.values(data)[0];
    if (result.error) return setError(messageOf(result.error));
    if (answer?.__typename === 'NotFoundError') return setError(answer.message ?? 'Not found');
    setAction(null);
    if (action === 'delete') navigate('/');
  };
  const open = (next: Action) => {
    setError(null);
    setAction(next);
  };

  return (
    <section aria-labelledby="danger-title" className="panel danger-zone">
      <h2 id="danger-title">Suspend or delete</h2>
      <div className="danger-row">
        <div>
          <strong>{tenant.status === 'suspended' ? 'Resume tenant' : 'Suspend tenant'}</strong>
          <p className="muted">
            {tenant.status === 'suspended'
              ? 'Its keys work again at once.'
              : 'Every key is refused (metrics, logs, traces) until you resume it. Nothing is deleted.'}
          </p>
        </div>
        <button
          type="button"
          className="button danger-outline"
          onClick={() => open(tenant.status === 'suspended' ? 'resume' : 'suspend')}
        >
          {tenant.status === 'suspended' ? 'Resume…' : 'Suspend…'}
        </button>
      </div>
      <div className="danger-row">
        <div>
          <strong>Delete tenant</strong>
          <p className="muted">
            It leaves every list, its keys stop working and its ID is never used again.
          </p>
        </div>
        <button type="button" className="button danger" onClick={() => open('delete')}>
          Delete…
        </button>
      </div>
      <ConfirmDialog
        open={action !== null}
        title={
          action === 'delete'
            ? `Delete ${tenant.displayName}?`
            : action === 'suspend'
              ? `Suspend ${tenant.displayName}?`
              : `Resume ${tenant.displayName}?`
        }
        confirmLabel={
          action === 'delete'
            ? 'Delete tenant'
            : action === 'suspend'
              ? 'Suspend tenant'
              : 'Resume tenant'
        }
        typeToConfirm={action === 'delete' ? tenant.displayName : undefined}
        busy={busy}
        error={error}
        onConfirm={() => void run()}
        onClose={() => setAction(null)}
      >
        {action === 'delete' ? (
          <p>
            <strong>{tenant.displayName}</strong> (<code>{tenant.id}</code>) and all its keys stop
            working. This cannot be undone.
          </p>
        ) : action === 'suspend' ? (
          <p>
            Every key of <strong>{tenant.displayName}</strong> is refused within 15 seconds, until
            you resume it.
          </p>
        ) : (
          <p>
            The keys of <strong>{tenant.displayName}</strong> work again at once.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
