import { FormEvent, useState } from 'react';
import { ApiClient, ApiError, describeError } from '../api/client';

/**
 * Asks for an organisation API key and checks it against the API before keeping it. A refused
 * key shows the API's own reason (code and message); any other failure (a service down) still
 * signs in, since the key was accepted by the gateway's guard.
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn(key: string): void; notice?: string }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter an API key (it starts with rca_ak_).');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // A guarded route this gateway always has: the guard answers 401 before any service is asked.
      await new ApiClient(trimmed).get('/api/v1/fleet/summary');
      onSignedIn(trimmed);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) setError(caught.summary);
      else if (caught instanceof ApiError && caught.status !== 0) onSignedIn(trimmed);
      else setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <h1>Agent Connector</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <label htmlFor="api-key">Organisation API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-errormessage={error ? 'signin-error' : undefined}
          autoFocus
        />
        <p id="signin-help" className="muted">
          Printed by <code>npm start</code> on first run, or created with{' '}
          <code>npm run admin -- org create</code>. It is kept in this tab only (session storage).
        </p>
        {notice && !error && <p className="notice">{notice}</p>}
        {error && (
          <p id="signin-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
