import { FormEvent, useState } from 'react';
import { ApiError } from '../api/client';
import { useApi } from '../api/context';
import type { AgentType, ProvisionResult } from '../api/types';
import { ENVIRONMENT_NAME_PATTERN } from '../api/types';
import { CopyButton, ErrorMessage, Loading } from '../components/common';
import { fieldOf, FormValues, initialValues, toConfig, validateConfig } from './config-form';
import { DeploymentTracker } from './DeploymentTracker';
import { useAgentTypes, useEnvironmentNames } from './shared';
import { wizardSession } from './wizard-session';

/**
 * Add an agent: pick a type → fill the form its schema describes → copy the command → watch
 * it connect. The form is generated from `GET /api/v1/agent/types`, so a new agent type
 * appears here without a dashboard change.
 */
export function AddAgent() {
  const types = useAgentTypes();
  // A reload in the middle of the wizard comes back to the command it showed, until dismissed.
  const [restored] = useState(() => wizardSession.load());
  const [type, setType] = useState<AgentType | null>(restored?.type ?? null);
  const [result, setResult] = useState<{ provisioned: ProvisionResult; at: number } | null>(
    restored ? { provisioned: restored.provisioned, at: restored.at } : null,
  );
  const dismiss = () => {
    wizardSession.clear();
    setResult(null);
    setType(null);
  };

  return (
    <section aria-labelledby="add-title">
      <h1 id="add-title">Add an agent</h1>
      <ol className="steps" aria-label="Progress">
        <li aria-current={!type ? 'step' : undefined}>Where it runs</li>
        <li aria-current={type && !result ? 'step' : undefined}>Settings</li>
        <li aria-current={result ? 'step' : undefined}>Install and connect</li>
      </ol>
      {!type && (
        <>
          <ErrorMessage error={types.error} title="Could not load agent types." />
          {types.loading && <Loading what="agent types" />}
          <div className="type-picker" role="list">
            {(types.data ?? []).map((t) => (
              <button
                type="button"
                role="listitem"
                key={t.type}
                className="type-card"
                onClick={() => setType(t)}
                data-testid={`type-${t.type}`}
              >
                <strong>{t.display_name}</strong>
                <span>{t.description}</span>
                <span className="muted">{t.platforms.join(', ')}</span>
              </button>
            ))}
          </div>
        </>
      )}
      {type && !result && (
        <ProvisionForm
          type={type}
          onBack={() => setType(null)}
          onProvisioned={(provisioned) => {
            const at = Date.now();
            wizardSession.save({ type, provisioned, at });
            setResult({ provisioned, at });
          }}
        />
      )}
      {type && result && (
        <>
          <InstallInstructions result={result.provisioned} />
          <DeploymentTracker type={type} environment={result.provisioned.environment} since={result.at} />
          <p className="actions">
            <button type="button" onClick={dismiss}>
              Add another agent
            </button>
            <button type="button" onClick={dismiss} title="Forget the command and its token in this tab">
              Done
            </button>
          </p>
        </>
      )}
    </section>
  );
}

function ProvisionForm({
  type,
  onBack,
  onProvisioned,
}: {
  type: AgentType;
  onBack(): void;
  onProvisioned(result: ProvisionResult): void;
}) {
  const api = useApi();
  const environments = useEnvironmentNames();
  const [environment, setEnvironment] = useState('');
  const [values, setValues] = useState<FormValues>(() => initialValues(type.config));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [serverError, setServerError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = validateConfig(type.config, values);
    if (!ENVIRONMENT_NAME_PATTERN.test(environment)) {
      found.environment_name =
        'environment_name must be lowercase letters, digits and dashes, starting with a letter or digit (max 63)';
    }
    setErrors(found);
    setServerError(null);
    if (Object.keys(found).length > 0) {
      document.getElementById(`field-${Object.keys(found)[0]}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      onProvisioned(
        await api.post<ProvisionResult>('/api/v1/agent/provision', {
          agent_type: type.type,
          environment_name: environment,
          config: toConfig(type.config, values),
        }),
      );
    } catch (error) {
      setServerError(error);
      if (error instanceof ApiError) {
        setErrors(Object.fromEntries(error.errors.map((e) => [fieldOf(e.field), e.reason])));
      }
    } finally {
      setBusy(false);
    }
  };

  const describedBy = (name: string, help: boolean) =>
    [help ? `help-${name}` : '', errors[name] ? `error-${name}` : ''].filter(Boolean).join(' ') || undefined;

  return (
    <form className="provision" onSubmit={submit} noValidate aria-labelledby="settings-title">
      <h2 id="settings-title">{type.display_name}: settings</h2>
      <p className="muted">{type.description}</p>
      <div className="field">
        <label htmlFor="field-environment_name">
          Environment <span aria-hidden="true">*</span>
        </label>
        <input
          id="field-environment_name"
          list="environment-names"
          required
          value={environment}
          placeholder="prod-1"
          onChange={(e) => setEnvironment(e.target.value)}
          aria-invalid={errors.environment_name ? true : undefined}
          aria-describedby={describedBy('environment_name', true)}
        />
        <datalist id="environment-names">
          {(environments.data ?? []).map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <p id="help-environment_name" className="muted">
          An existing environment or a new one (created with its first token, then listed everywhere):
          lowercase letters, digits and dashes.
        </p>
        {errors.environment_name && (
          <p id="error-environment_name" className="field-error">
            {errors.environment_name}
          </p>
        )}
      </div>
      {type.config.map((field) => (
        <div className="field" key={field.name}>
          {field.type === 'boolean' ? (
            <label className="checkbox">
              <input
                id={`field-${field.name}`}
                type="checkbox"
                checked={values[field.name] === true}
                onChange={(e) => setValues({ ...values, [field.name]: e.target.checked })}
                aria-describedby={describedBy(field.name, true)}
              />
              {field.name}
            </label>
          ) : (
            <>
              <label htmlFor={`field-${field.name}`}>
                {field.name}
                {field.required && <span aria-hidden="true"> *</span>}
              </label>
              {field.type === 'enum' ? (
                <select
                  id={`field-${field.name}`}
                  value={String(values[field.name] ?? '')}
                  onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                  aria-invalid={errors[field.name] ? true : undefined}
                  aria-describedby={describedBy(field.name, true)}
                >
                  {!field.required && <option value="">(default)</option>}
                  {(field.enum ?? []).map((option) => (
                    <option key={option}>{option}</option>
                  ))}
                </select>
              ) : (
                <input
                  id={`field-${field.name}`}
                  type={field.type === 'integer' ? 'number' : 'text'}
                  inputMode={field.type === 'integer' ? 'numeric' : undefined}
                  min={field.minimum}
                  max={field.maximum}
                  required={field.required}
                  value={String(values[field.name] ?? '')}
                  onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                  aria-invalid={errors[field.name] ? true : undefined}
                  aria-describedby={describedBy(field.name, true)}
                />
              )}
            </>
          )}
          <p id={`help-${field.name}`} className="muted">
            {field.description}
            {field.default !== undefined && field.type !== 'boolean' && (
              <>
                {' '}
                Default: <code>{String(field.default)}</code>.
              </>
            )}
          </p>
          {errors[field.name] && (
            <p id={`error-${field.name}`} className="field-error">
              {errors[field.name]}
            </p>
          )}
        </div>
      ))}
      <ErrorMessage error={serverError} title="The platform refused these settings." />
      <div className="actions">
        <button type="button" onClick={onBack}>
          Back
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create install command'}
        </button>
      </div>
    </form>
  );
}

const PLATFORM_NAMES: Record<string, string> = {
  linux: 'Linux',
  macos: 'macOS',
  windows: 'Windows',
  any: 'Any OS',
};

function InstallInstructions({ result }: { result: ProvisionResult }) {
  const commands = result.commands?.length
    ? result.commands
    : [{ platform: 'any', shell: 'sh', command: result.command }];
  const [selected, setSelected] = useState(0);
  const current = commands[Math.min(selected, commands.length - 1)];
  return (
    <section aria-labelledby="install-title" className="panel">
      <h2 id="install-title">Install it in {result.environment}</h2>
      {(result.warnings ?? []).length > 0 && (
        <div className="warning" role="alert" data-testid="command-warnings">
          {(result.warnings ?? []).map((warning) => (
            <p key={warning}>
              <strong>Check before you paste:</strong> {warning}
            </p>
          ))}
        </div>
      )}
      {commands.length > 1 && (
        <div role="tablist" aria-label="Operating system" className="segmented">
          {commands.map((c, i) => (
            <button
              key={`${c.platform}-${c.shell}`}
              type="button"
              role="tab"
              id={`tab-${i}`}
              aria-selected={i === selected}
              aria-controls="command-panel"
              onClick={() => setSelected(i)}
            >
              {PLATFORM_NAMES[c.platform] ?? c.platform} ({c.shell})
            </button>
          ))}
        </div>
      )}
      <div
        id="command-panel"
        role={commands.length > 1 ? 'tabpanel' : undefined}
        aria-labelledby={commands.length > 1 ? `tab-${selected}` : undefined}
      >
        <pre className="command" data-testid="install-command">
          <code>{current.command}</code>
        </pre>
        <CopyButton text={current.command} label="Copy command" />
      </div>
      {result.instructions?.length > 0 && (
        <ol className="instructions">
          {result.instructions.map((step, i) => (
            <li key={i}>{step}</li>
          ))}
        </ol>
      )}
      <div className="notice">
        <p>
          <strong>Enrollment token (shown once):</strong>{' '}
          <code data-testid="enrollment-token">{result.enrollment_token}</code>{' '}
          <CopyButton text={result.enrollment_token} label="Copy token" />
        </p>
        <p className="muted">
          The command already contains it. Token id <code>{result.token_id}</code>
          {result.expires_at
            ? `, expires ${new Date(result.expires_at).toLocaleString()}`
            : ', does not expire'}
          . Revoke it under Tokens once your agents are enrolled.
        </p>
      </div>
    </section>
  );
}
