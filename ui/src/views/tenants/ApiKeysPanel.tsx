import { useState } from 'react';
import { useMutation } from 'urql';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { messageOf } from '../../components/Notice.tsx';
import type { ResultOf } from '../../graphql.ts';
import { useViewer } from '../../session/SessionProvider.tsx';
import { CreateKeyDialog } from './CreateKeyDialog.tsx';
import { type IssuedKey, RevokeApiKeyMutation, type TenantQuery } from './documents.ts';
import { KeyCreatedDialog } from './KeyCreatedDialog.tsx';
import { RollKeyDialog } from './RollKeyDialog.tsx';
import { StatusBadge } from './StatusBadge.tsx';

type Tenant = Extract<ResultOf<typeof TenantQuery>['tenant'], { __typename: 'Tenant' }>;
type Key = Tenant['apiKeys'][number];

/** The tenant's keys: prefix, name, scopes, dates, status; create, roll and revoke. */
export function ApiKeysPanel({
  tenantId,
  keys,
  maxKeys,
  onChanged,
}: {
  tenantId: string;
  keys: Key[];
  maxKeys: number;
  onChanged(): void;
}) {
  const { canWrite } = useViewer();
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<{ issued: IssuedKey; rolled: boolean } | null>(null);
  const [rolling, setRolling] = useState<Key | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const [{ fetching: revokeBusy }, revoke] = useMutation(RevokeApiKeyMutation);
  const live = keys.filter((k) => k.status !== 'revoked').length;

  const confirmRevoke = async () => {
    if (!revoking) return;
    setRevokeError(null);
    const result = await revoke({ id: revoking.id });
    const answer = result.data?.revokeApiKey;
    if (result.error) setRevokeError(messageOf(result.error));
    else if (answer?.__typename === 'NotFoundError') setRevokeError(answer.message);
    else {
      setRevoking(null);
      onChanged();
    }
  };

  return (
    <section aria-labelledby="keys-title" className="panel">
      <div className="panel-header">
        <h2 id="keys-title">API keys</h2>
        <span className="muted" data-testid="key-count">
          {live} of {maxKeys} keys in use
        </span>
        {canWrite && (
          <button type="button" className="button primary" onClick={() => setCreating(true)}>
            Create API key
          </button>
        )}
      </div>
      <p className="muted">
        Keep two keys per tenant, an active one and a backup, so one can be rolled or revoked
        without downtime. A revoked key stops working within 15 seconds.
      </p>
      {keys.length === 0 ? (
        <p className="empty-inline">No keys yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table keys-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                {canWrite && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr
                  key={k.id}
                  data-key-id={k.id}
                  className={k.status === 'revoked' ? 'revoked' : ''}
                >
                  <td>{k.displayName}</td>
                  <td>
                    <code>{k.prefix}…</code>
                    {k.status === 'in_grace' && k.previousPrefix && (
                      <div className="muted small">
                        previous <code>{k.previousPrefix}…</code> works until{' '}
                        {formatDateTime(k.previousExpiresAt)}
                      </div>
                    )}
                  </td>
                  <td>
                    <ul className="scopes">
                      {k.scopes.map((s) => (
                        <li key={s}>{s}</li>
                      ))}
                    </ul>
                  </td>
                  <td data-testid="key-status">
                    <StatusBadge status={k.status} />
                  </td>
                  <td>{formatDateTime(k.createdAt)}</td>
                  <td title={k.lastUsedAt ? formatDateTime(k.lastUsedAt) : undefined}>
                    {formatRelative(k.lastUsedAt)}
                  </td>
                  <td>
                    {k.revokedAt
                      ? `revoked ${formatDateTime(k.revokedAt)}`
                      : k.expiresAt
                        ? formatDateTime(k.expiresAt)
                        : 'never'}
                  </td>
                  {canWrite && (
                    <td className="row-actions">
                      {k.status !== 'revoked' && k.status !== 'expired' && (
                        <>
                          <button
                            type="button"
                            className="button secondary small"
                            onClick={() => setRolling(k)}
                            aria-label={`Roll key ${k.displayName}`}
                          >
                            Roll
                          </button>
                          <button
                            type="button"
                            className="button danger-outline small"
                            onClick={() => {
                              setRevokeError(null);
                              setRevoking(k);
                            }}
                            aria-label={`Revoke key ${k.displayName}`}
                          >
                            Revoke
                          </button>
                        </>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {canWrite && (
        <>
          <CreateKeyDialog
            open={creating}
            tenantId={tenantId}
            onClose={() => setCreating(false)}
            onIssued={(key) => {
              setCreating(false);
              setIssued({ issued: key, rolled: false });
              onChanged();
            }}
          />
          <RollKeyDialog
            apiKey={rolling}
            onClose={() => setRolling(null)}
            onIssued={(key) => {
              setRolling(null);
              setIssued({ issued: key, rolled: true });
              onChanged();
            }}
          />
          <KeyCreatedDialog
            issued={issued?.issued ?? null}
            rolled={issued?.rolled ?? false}
            onClose={() => setIssued(null)}
          />
          <ConfirmDialog
            open={revoking !== null}
            title="Revoke API key"
            confirmLabel="Revoke key"
            busy={revokeBusy}
            error={revokeError}
            onConfirm={() => void confirmRevoke()}
            onClose={() => setRevoking(null)}
          >
            <p>
              Revoke <strong>{revoking?.displayName}</strong> (<code>{revoking?.prefix}…</code>)?
            </p>
            <p>
              Collectors using it are refused within 15 seconds. This cannot be undone: a revoked
              key never works again.
            </p>
            {revoking?.lastUsedAt && (
              <p className="notice warning">
                This key was last used {formatRelative(revoking.lastUsedAt)}.
              </p>
            )}
          </ConfirmDialog>
        </>
      )}
    </section>
  );
}
