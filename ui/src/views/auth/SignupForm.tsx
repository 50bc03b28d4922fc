import { type FormEvent, useRef, useState } from 'react';
import { useSession } from '../../session/SessionProvider.tsx';
import { Field } from './Field.tsx';
import { errorsOf, type FormErrors, NO_ERRORS } from './failure.ts';
import { focusFirstError } from './LoginForm.tsx';

const FIELDS = ['organisationName', 'email', 'password'] as const;

export function SignupForm() {
  const { signup } = useSession();
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [pending, setPending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setPending(true);
    setErrors(NO_ERRORS);
    const failure = await signup(
      String(data.get('organisationName') ?? ''),
      String(data.get('email') ?? ''),
      String(data.get('password') ?? ''),
    );
    setPending(false);
    if (!failure) return;
    const next = errorsOf(failure, FIELDS);
    setErrors(next);
    focusFirstError(formRef.current, next, null);
  }

  return (
    <form ref={formRef} className="auth-form" onSubmit={onSubmit} aria-labelledby="signup-title">
      <h1 id="signup-title">Create an organisation</h1>
      <Field
        label="Organisation name"
        name="organisationName"
        autoComplete="organization"
        required
        maxLength={100}
        error={errors.fields.organisationName}
      />
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        maxLength={254}
        error={errors.fields.email}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        hint="10 to 256 characters."
        required
        minLength={10}
        maxLength={256}
        error={errors.fields.password}
      />
      {errors.form && (
        <p className="form-error" role="alert" tabIndex={-1}>
          {errors.form}
        </p>
      )}
      <button type="submit" className="button primary" disabled={pending}>
        {pending ? 'Creating…' : 'Create organisation'}
      </button>
    </form>
  );
}
