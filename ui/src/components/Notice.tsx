import type { CombinedError } from 'urql';

/** A failed request, said plainly: what the server answered, or that it could not be reached. */
export function messageOf(error: CombinedError): string {
  if (error.networkError) return 'The portal cannot be reached; check the connection and retry.';
  return error.graphQLErrors.map((e) => e.message).join(' ') || error.message;
}

export function ErrorNotice({ error }: { error: CombinedError | string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {typeof error === 'string' ? error : messageOf(error)}
    </p>
  );
}
