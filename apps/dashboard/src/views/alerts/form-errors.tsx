import { ReactNode, useState } from 'react';
import { ApiError } from '../../api/client';
import { ErrorMessage } from '../../components/common';

/**
 * The server's 400 spread over a form: each field's reason next to the field, in the API's own
 * words, and whatever names no field of the form (or is not a 400) above it.
 */
export function useServerErrors(fields: readonly string[]) {
  const [error, setError] = useState<unknown>(null);
  const byField: Record<string, string> = {};
  let unplaced = error;
  if (error instanceof ApiError && error.errors.length > 0) {
    for (const e of error.errors) {
      if (fields.includes(e.field))
        byField[e.field] = byField[e.field] ? `${byField[e.field]}; ${e.reason}` : e.reason;
    }
    const rest = error.errors.filter((e) => !fields.includes(e.field));
    unplaced = rest.length ? new ApiError(error.status, error.code, error.message, rest) : null;
  }
  return { error, setError, byField, unplaced };
}

/** The problems not shown at a field, or a pointer to the ones that are. */
export function FormError({ unplaced, count }: { unplaced: unknown; count: number }) {
  if (unplaced) return <ErrorMessage error={unplaced} />;
  if (count === 0) return null;
  return (
    <p className="field-error" role="alert">
      {count === 1 ? 'One field needs attention.' : `${count} fields need attention.`}
    </p>
  );
}

/** One labelled field with its hint and the server's reason, wired for assistive technology. */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: (props: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}) {
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(error ? { 'aria-invalid': true as const } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {hint && (
        <p id={`${id}-hint`} className="muted">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" data-testid={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
