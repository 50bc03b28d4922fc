import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useSession } from '../../session/SessionProvider.tsx';
import { Field } from './Field.tsx';
import { errorsOf, type FormErrors, NO_ERRORS } from './failure.ts';

const FIELDS = ['email', 'password'] as const;

export function LoginForm() {
  const { login } = useSession();
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [pending, setPending] = useState(false);
  const [blockedUntil, setBlockedUntil] = useState(0);
  const alertRef = useRef<HTMLParagraphElement>(null);
  const formRef = useRef<HTMLFormElement>(null);

  // Rate limited: the button comes back when the wait is over.
  useEffect(() => {
    if (!blockedUntil) return;
    const timer = setTimeout(() => setBlockedUntil(0), blockedUntil - Date.now());
    return () => clearTimeout(timer);
  }, [blockedUntil]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setPending(true);
    setErrors(NO_ERRORS);
    const failure = await login(
      String(data.get('email') ?? ''),
      String(data.get('password') ?? ''),
    );
    setPending(false);
    if (!failure) return;
    const next = errorsOf(failure, FIELDS);
    setErrors(next);
    if (failure.kind === 'rateLimited') {
      setBlockedUntil(Date.now() + failure.retryAfterSeconds * 1000);
    }
    focusFirstError(formRef.current, next, alertRef.current);
  }

  return (
    <form ref={formRef} className="auth-form" onSubmit={onSubmit} aria-labelledby="login-title">
      <h1 id="login-title">Log in</h1>
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="username"
        required
        maxLength={254}
        error={errors.fields.email}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        maxLength={256}
        error={errors.fields.password}
      />
      {errors.form && (
        <p ref={alertRef} className="form-error" role="alert" tabIndex={-1}>
          {errors.form}
        </p>
      )}
      <button type="submit" className="button primary" disabled={pending || blockedUntil > 0}>
        {pending ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  );
}

/** Moves focus to the first field with an error, else to the form's alert. */
export function focusFirstError(
  form: HTMLFormElement | null,
  errors: FormErrors,
  alert: HTMLElement | null,
): void {
  requestAnimationFrame(() => {
    const field = form?.querySelector<HTMLInputElement>('[aria-invalid="true"]');
    if (field) field.focus();
    else if (errors.form) (alert ?? form?.querySelector<HTMLElement>('.form-error'))?.focus();
  });
}
