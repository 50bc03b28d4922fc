import { useState } from 'react';
import { useMutation } from 'urql';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { formatDateTime } from '../../components/format.ts';
import { messageOf } from '../../components/Notice.tsx';
import type { ResultOf } from '../../graphql.ts';
import { useViewer } from '../../session/SessionProvider.tsx';
import { AddUserDialog } from './AddUserDialog.tsx';
import { RemoveUserMutation, UpdateUserRoleMutation, type UsersAndPlanQuery } from './documents.ts';
import { canManage, capitalise, fieldMessage, grantableRoles, type Role } from './roles.ts';
import { useStatusMessage } from './useStatusMessage.ts';

type UserRow = ResultOf<typeof UsersAndPlanQuery>['organisation']['users'][number];

/** The users table; owners and admins add, re-role and remove, viewers only read. */
export function UsersSection({
  users,
  onChanged,
}: {
  users: readonly UserRow[];
  onChanged(): void;
}) {
  const { user: me, canWrite } = useViewer();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<UserRow | null>(null);
  const [status, setStatus] = useStatusMessage();
  const roles = grantableRoles(me.role);

  return (
    <section aria-labelledby="users-list-title" className="panel users-panel">
      <div className="panel-header">
        <h2 id="users-list-title">Users</h2>
        <span className="muted">{users.length === 1 ? '1 user' : `${users.length} users`}</span>
        {canWrite && (
          <button type="button" className="button primary" onClick={() => setAdding(true)}>
            Add user
          </button>
        )}
      </div>
      <p className="status-line" role="status">
        {status}
      </p>
      <div className="table-wrap">
        <table className="data-table users-table" data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Added</th>
              {canWrite && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {users.map((u) => {
              const manageable = canManage(me, u);
              return (
                <tr key={u.id} data-testid={`user-row-${u.email}`}>
                  <th scope="row" className="user-email">
                    {u.email}
                    {u.id === me.id && <span className="muted"> (you)</span>}
                  </th>
                  <td>
                    {manageable ? (
                      <RoleEditor
                        user={u}
                        roles={roles}
                        onChanged={(role) => {
                          setStatus(`${u.email} is now ${role === 'admin' ? 'an' : 'a'} ${role}.`);
                          onChanged();
                        }}
                      />
                    ) : (
                      <span className="role-text">{u.role}</span>
                    )}
                  </td>
                  <td>
                    <time dateTime={u.createdAt}>{formatDateTime(u.createdAt)}</time>
                  </td>
                  {canWrite && (
                    <td className="row-actions">
                      {manageable && (
                        <button
                          type="button"
                          className="button danger-outline small"
                          aria-label={`Remove ${u.email}`}
                          onClick={() => setRemoving(u)}
                        >
                          Remove
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {!canWrite && (
        <p className="muted small read-only-note">
          You are a viewer: only owners and admins add, change or remove users.
        </p>
      )}
      {canWrite && (
        <>
          <AddUserDialog
            open={adding}
            roles={roles}
            onClose={() => setAdding(false)}
            onAdded={(added) => {
              setAdding(false);
              setStatus(
                `${added.email} was added as ${added.role === 'admin' ? 'an' : 'a'} ${added.role}.`,
              );
              onChanged();
            }}
          />
          <RemoveUserDialog
            user={removing}
            onClose={() => setRemoving(null)}
            onRemoved={(email) => {
              setRemoving(null);
              setStatus(`${email} was removed.`);
              onChanged();
            }}
          />
        </>
      )}
    </section>
  );
}

/** A role select and its Save button: picking an option changes nothing until Save. */
function RoleEditor({
  user,
  roles,
  onChanged,
}: {
  user: UserRow;
  roles: Role[];
  onChanged(role: Role): void;
}) {
  const [role, setRole] = useState<Role>(user.role);
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, updateRole] = useMutation(UpdateUserRoleMutation);
  const errorId = `role-error-${user.id}`;
  // An admin may meet an owner only as text (canManage), so `roles` holds the current role.
  const options = roles.includes(user.role) ? roles : [user.role, ...roles];

  const save = async () => {
    setError(null);
    const result = await updateRole({ id: user.id, role });
    const answer = result.data?.updateUserRole;
    if (!answer) {
      // FORBIDDEN and the like come as GraphQL errors: say what the server said.
      setError(result.error ? messageOf(result.error) : 'The portal did not answer.');
      setRole(user.role);
      return;
    }
    if (answer.__typename === 'User') {
      onChanged(answer.role);
      return;
    }
    setError(
      answer.__typename === 'ValidationError'
        ? fieldMessage(answer.field, answer.message)
        : answer.message,
    );
    setRole(user.role);
  };

  return (
    <div className="role-editor">
      <select
        aria-label={`Role of ${user.email}`}
        value={role}
        onChange={(e) => {
          setRole(e.target.value as Role);
          setError(null);
        }}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        disabled={fetching}
      >
        {options.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      {role !== user.role && (
        <>
          <button
            type="button"
            className="button primary small"
            onClick={save}
            disabled={fetching}
            aria-label={`Save role ${role} for ${user.email}`}
          >
            {fetching ? 'Saving…' : 'Save'}
          </button>
          <button
            type="button"
            className="button secondary small"
            onClick={() => setRole(user.role)}
            disabled={fetching}
            aria-label={`Keep ${user.email} as ${user.role}`}
          >
            Cancel
          </button>
        </>
      )}
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function RemoveUserDialog({
  user,
  onClose,
  onRemoved,
}: {
  user: UserRow | null;
  onClose(): void;
  onRemoved(email: string): void;
}) {
  const [{ fetching }, removeUser] = useMutation(RemoveUserMutation);
  const [error, setError] = useState<string | null>(null);
  const { organisation } = useViewer();
  const close = () => {
    setError(null);
    onClose();
  };
  const confirm = async () => {
    if (!user) return;
    setError(null);
    const result = await removeUser({ id: user.id });
    const answer = result.data?.removeUser;
    if (!answer) {
      setError(result.error ? messageOf(result.error) : 'The portal did not answer.');
      return;
    }
    if (answer.__typename === 'User') onRemoved(user.email);
    else if (answer.__typename === 'ValidationError')
      setError(capitalise(fieldMessage(answer.field, answer.message)));
    else setError(answer.message);
  };
  return (
    <ConfirmDialog
      open={user !== null}
      title="Remove user"
      confirmLabel="Remove user"
      busy={fetching}
      error={error}
      onConfirm={confirm}
      onClose={close}
    >
      {user && (
        <p>
          Remove <strong className="confirm-name">{user.email}</strong> ({user.role}) from{' '}
          {organisation.name}? They are signed out at once and can no longer log in.
        </p>
      )}
    </ConfirmDialog>
  );
}
