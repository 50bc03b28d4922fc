import { type FormEvent, useId, useState } from 'react';
import { useMutation } from 'urql';
import { Dialog } from '../../components/Dialog.tsx';
import { DialogActions } from '../../components/DialogActions.tsx';
import { messageOf } from '../../components/Notice.tsx';
import { Field } from '../auth/Field.tsx';
import { CreateUserMutation } from './documents.ts';
import { capitalise, fieldMessage, ROLE_HINTS, type Role } from './roles.ts';

const MIN_PASSWORD = 10;
const MAX_PASSWORD = 256;

type Errors = Partial<Record<'email' | 'password' | 'role', string>>;

interface AddUserDialogProps {
  open: boolean;
  /** The roles the signed-in user may give (owner only for owners). */
  roles: Role[];
  onClose(): void;
  onAdded(user: { email: string; role: Role }): void;
}

/** createUser: email, an initial password the new user is given privately, and a role. */
export function AddUserDialog({ open, roles, onClose, onAdded }: AddUserDialogProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [{ fetching }, createUser] = useMutation(CreateUserMutation);
  const roleId = useId();

  const reset = () => {
    setEmail('');
    setPassword('');
    setRole('viewer');
    setErrors({});
    setFormError(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (fetching) return;
    const found: Errors = {};
    if (!email.trim()) found.email = 'Enter the new user’s email address.';
    if (password.length < MIN_PASSWORD)
      found.password = `At least ${MIN_PASSWORD} characters (this one has ${password.length}).`;
    else if (password.length > MAX_PASSWORD) found.password = `At most ${MAX_PASSWORD} characters.`;
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) return;

    const result = await createUser({ email: email.trim(), password, role });
    const answer = result.data?.createUser;
    if (!answer) {
      setFormError(result.error ? messageOf(result.error) : 'The portal did not answer.');
      return;
    }
    switch (answer.__typename) {
      case 'User':
        reset();
        onAdded({ email: answer.email, role: answer.role });
        return;
      case 'ConflictError':
        setErrors({ email: answer.message });
        return;
      case 'ValidationError':
        if (answer.field === 'email' || answer.field === 'password' || answer.field === 'role') {
          setErrors({ [answer.field]: fieldMessage(answer.field, answer.message) });
        } else {
          setFormError(answer.message);
        }
        return;
    }
  };

  return (
    <Dialog
      open={open}
      title="Add a user"
      onClose={close}
      className="add-user-dialog"
      description="They log in with this email and the initial password; give it to them privately."
    >
      <form onSubmit={submit} noValidate>
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="off"
          spellCheck={false}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
          maxLength={320}
        />
        <Field
          label="Initial password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint={`${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
        />
        <div className={errors.role ? 'field invalid' : 'field'}>
          <label htmlFor={roleId}>Role</label>
          <p id={`${roleId}-hint`} className="hint">
            {capitalise(role)}: {ROLE_HINTS[role]}.
          </p>
          <select
            id={roleId}
            name="role"
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
            aria-describedby={`${roleId}-hint${errors.role ? ` ${roleId}-error` : ''}`}
            aria-invalid={errors.role ? true : undefined}
          >
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          {errors.role && (
            <p id={`${roleId}-error`} className="field-error">
              {errors.role}
            </p>
          )}
        </div>
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <DialogActions onCancel={close} label="Add user" busyLabel="Adding…" busy={fetching} />
      </form>
    </Dialog>
  );
}
