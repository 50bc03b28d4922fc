import { fieldMessage } from '../../components/field-message.ts';
import type { AuthFailure } from '../../session/controller.ts';

/** Errors as the form shows them: one per field it names, and one for the whole form. */
export interface FormErrors {
  fields: Partial<Record<string, string>>;
  form: string | null;
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null };

/** "1 min 30 s", "45 s", "2 h 5 min". */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return s % 60 ? `${minutes} min ${s % 60} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** Where each answer goes: a field the API names, or the form's alert. */
export function errorsOf(failure: AuthFailure, knownFields: readonly string[]): FormErrors {
  switch (failure.kind) {
    case 'validation':
      return knownFields.includes(failure.field)
        ? {
            fields: { [failure.field]: fieldMessage(failure.field, failure.message) },
            form: null,
          }
        : { fields: {}, form: failure.message };
    case 'conflict':
      // Signup's only conflict is an email already registered.
      return knownFields.includes('email')
        ? { fields: { email: failure.message }, form: null }
        : { fields: {}, form: failure.message };
    case 'rateLimited':
      return {
        fields: {},
        form: `Too many attempts. Try again in ${formatWait(failure.retryAfterSeconds)}.`,
      };
    case 'invalidCredentials':
      return { fields: {}, form: failure.message || 'Wrong email or password.' };
    case 'unavailable':
      return { fields: {}, form: failure.message };
  }
}
