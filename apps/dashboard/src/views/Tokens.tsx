import { FormEvent, useState } from 'react';
import { useApi, useLoader } from '../api/context';
import type { IssuedToken, TokenMetadata } from '../api/types';
import { ENVIRONMENT_NAME_PATTERN } from '../api/types';
import { Ago, ConfirmDialog, CopyButton, ErrorMessage, formatTime, Loading } from '../components/common';
import { setSearch, useLocation } from '../router';
import { useEnvironmentNames } from './shared';

const tokensPath = (environment: string) => `/api/v1/environments/${encodeURIComponent(environment)}/tokens`;

function tokenState(token: TokenMetadata): string {
  if (token.revoked_at) return 'revoked';
  if (token.expires_at && new Date(token.expires_at).getTime() < Date.now()) return 'expired';
  if (token.replaced_by) return 'rotated';
  if (token.max_uses !== null && token.uses >= token.max_uses) return 'used up';
  return 'active';
}

const DEFAULT_GRACE = 'default';
/** The rotate call's grace_period_seconds (0 to 30 days); the default is the platform's setting. */
const GRACE_CHOICES: [string, string][] = [
  [DEFAULT_GRACE, 'for the platform’s default grace period'],
  ['0', 'not at all: stop it now'],
  ['3600', 'for 1 hour'],
  ['86400', 'for 1 day'],
  ['604800', 'for 7 days'],
  ['2592000', 'for 30 days'],
];

/** Enrollment tokens of one environment: issue, rotate, revoke. A secret is shown once, right after it is made. */
export function Tokens() {
  const api = useApi();
  const environments = useEnvironmentNames();
  const { search } = useLocation();
  const environment = search.get('environment') ?? environments.data?.[0] ?? '';
  const includeRevoked = search.get('include_revoked') === 'true';
  const tokens = useLoader(
    async (signal) =>
      environment
        ? (
            await api.get<{ tokens: TokenMetadata[] }>(
              tokensPath(environment),
              { include_revoked: includeRevoked ? 'true' : undefined },
              signal,
            )
          ).tokens
        : [],
    [environment, includeRevoked],
  );
  const [secret, setSecret] = useState<IssuedToken | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [revoking, setRevoking] = useState<TokenMetadata | null>(null);
  const [rotating, setRotating] = useState<TokenMetadata | null>(null);
  const [grace, setGrace] = useState(DEFAULT_GRACE);

  /** Runs an action; when it yields a freshly issued token, its secret is shown (once). */
  const act = async (action: () => Promise<IssuedToken | null>) => {
    setActionError(null);
    try {
      const issued = await action();
      if (issued) setSecret(issued);
      tokens.reload();
      return true;
    } catch (error) {
      setActionError(error);
      return false;
    }
  };

  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">Enrollment tokens</h1>
      <label className="inline">
        Environment{' '}
        <select value={environment} onChange={(e) => setSearch({ environment: e.target.value })}>
          {environment && !(environments.data ?? []).includes(environment) && <option>{environment}</option>}
          {(environments.data ?? []).map((name) => (
            <option key={name}>{name}</option>
          ))}
        </select>
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={includeRevoked}
          onChange={(e) => setSearch({ environment, include_revoked: e.target.checked ? 'true' : undefined })}
        />
        Show revoked tokens
      </label>
      {environments.data?.length === 0 && !search.get('environment') && (
        <p className="muted">
          No environments yet: adding an agent creates one, or issue a token for a new name below.
        </p>
      )}
      {secret && (
        <div className="secret" role="alert">
          <p>
            <strong>New token for {secret.environment}. Copy it now: it will not be shown again.</strong>
          </p>
          <code data-testid="token-secret">{secret.secret}</code> <CopyButton text={secret.secret} />{' '}
          <button type="button" className="link" onClick={() => setSecret(null)}>
            I have copied it
          </button>
        </div>
      )}
      <ErrorMessage error={actionError} />
      <IssueForm
        environment={environment}
        onIssue={(env, body) => act(() => api.post<IssuedToken>(tokensPath(env), body))}
      />
      <ErrorMessage error={tokens.error} title="Could not load tokens." />
      {tokens.loading && !tokens.data && <Loading what="tokens" />}
      {environment && tokens.data && (
        <table>
          <caption>Tokens of {environment}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Token</th>
              <th scope="col">State</th>
              <th scope="col">Uses</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  No tokens in this environment.
                </td>
              </tr>
            )}
            {tokens.data.map((token) => {
              const state = tokenState(token);
              return (
                <tr key={token.id}>
                  <td>{token.name ?? '—'}</td>
                  <td>
                    <code>{token.hint}</code>
                  </td>
                  <td>
                    {state}
                    {token.grace_until && !token.revoked_at && (
                      <span className="muted"> (valid until {formatTime(token.grace_until)})</span>
                    )}
                  </td>
                  <td>
                    {token.uses}
                    {token.max_uses !== null && ` / ${token.max_uses}`}
                  </td>
                  <td>{formatTime(token.created_at)}</td>
                  <td>{formatTime(token.expires_at)}</td>
                  <td>
                    <Ago iso={token.last_used_at} />
                  </td>
                  <td className="cell-actions">
                    {!token.revoked_at && !token.replaced_by && (
                      <button type="button" className="small" onClick={() => setRotating(token)}>
                        Rotate<span className="visually-hidden"> {token.name ?? token.hint}</span>
                      </button>
                    )}
                    {!token.revoked_at && (
                      <button type="button" className="small danger" onClick={() => setRevoking(token)}>
                        Revoke<span className="visually-hidden"> {token.name ?? token.hint}</span>
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        open={rotating !== null}
        title="Rotate this enrollment token?"
        confirmLabel="Rotate token"
        onCancel={() => setRotating(null)}
        onConfirm={async () => {
          const token = rotating;
          if (!token) return;
          const ok = await act(async () => {
            const rotated = await api.post<{ token: IssuedToken }>(
              `${tokensPath(environment)}/${encodeURIComponent(token.id)}/rotate`,
              grace === DEFAULT_GRACE ? {} : { grace_period_seconds: Number(grace) },
            );
            return rotated.token;
          });
          if (ok) {
            setRotating(null);
            setGrace(DEFAULT_GRACE);
          }
        }}
      >
        <p>
          A new secret replaces <code>{rotating?.hint}</code>; it is shown once. Install commands that still
          carry the old one work only during the grace period.
        </p>
        <label className="rotate-grace">
          The old secret keeps working
          <select value={grace} onChange={(e) => setGrace(e.target.value)}>
            {GRACE_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </ConfirmDialog>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this enrollment token?"
        confirmLabel="Revoke token"
        onCancel={() => setRevoking(null)}
        onConfirm={async () => {
          const token = revoking;
          if (!token) return;
          if (
            await act(async () => {
              await api.delete(`${tokensPath(environment)}/${encodeURIComponent(token.id)}`);
              return null;
            })
          )
            setRevoking(null);
        }}
      >
        <p>
          New agents can no longer enroll with <code>{revoking?.hint}</code>. Agents already enrolled keep
          their own credentials and are not affected.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function IssueForm({
  environment,
  onIssue,
}: {
  environment: string;
  onIssue(environment: string, body: Record<string, unknown>): Promise<boolean>;
}) {
  const [name, setName] = useState('');
  const [target, setTarget] = useState('');
  const [expires, setExpires] = useState('');
  const [maxUses, setMaxUses] = useState('');
  const [error, setError] = useState<string | null>(null);
  const env = target.trim() || environment;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ENVIRONMENT_NAME_PATTERN.test(env)) {
      setError('environment must be lowercase letters, digits and dashes (max 63)');
      return;
    }
    if (maxUses && !/^\d+$/.test(maxUses)) {
      setError('max uses must be a whole number');
      return;
    }
    setError(null);
    const ok = await onIssue(env, {
      ...(name ? { name } : {}),
      ...(expires ? { expires_at: new Date(expires).toISOString() } : {}),
      ...(maxUses ? { max_uses: Number(maxUses) } : {}),
    });
    if (ok) {
      setName('');
      setExpires('');
      setMaxUses('');
      if (target) setSearch({ environment: env });
      setTarget('');
    }
  };

  return (
    <form className="filters" onSubmit={submit} aria-label="Issue a token">
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="ci runners" />
      </label>
      <label>
        Environment
        <input
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          placeholder={environment || 'prod-1'}
        />
      </label>
      <label>
        Expires
        <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </label>
      <label>
        Max uses
        <input type="number" min={1} value={maxUses} onChange={(e) => setMaxUses(e.target.value)} />
      </label>
      <button type="submit" className="primary">
        Issue token
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
