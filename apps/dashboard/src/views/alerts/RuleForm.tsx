import { FormEvent, useState } from 'react';
import { useApi } from '../../api/context';
import { AlertChannel, AlertRule, RULE_KINDS } from './alert-types';
import { Field, FormError, useServerErrors } from './form-errors';

const FIELDS = [
  'name',
  'kind',
  'offline_seconds',
  'threshold',
  'window_seconds',
  'environment',
  'agent_type',
  'label',
  'enabled',
  'channel_ids',
] as const;
const KIND_HELP: Record<string, string> = {
  agent_offline: 'An agent stays offline longer than the delay.',
  agent_revoked: 'An agent’s credential is revoked.',
  agent_degraded: 'An agent reports a failing collector, a filling buffer, dropped samples or clock skew.',
  agent_stopped: 'An agent announces a clean stop.',
  enrollment_failures: 'Enrollment fails at least N times within a window.',
};

type Values = Record<
  | 'name'
  | 'kind'
  | 'offline_seconds'
  | 'threshold'
  | 'window_seconds'
  | 'environment'
  | 'agent_type'
  | 'label',
  string
>;

function initialValues(rule?: AlertRule): Values {
  return {
    name: rule?.name ?? '',
    kind: rule?.kind ?? 'agent_offline',
    offline_seconds: rule?.offline_seconds?.toString() ?? '',
    threshold: rule?.threshold?.toString() ?? '',
    window_seconds: rule?.window_seconds?.toString() ?? '',
    environment: rule?.environment ?? '',
    agent_type: rule?.agent_type ?? '',
    label: rule?.label ?? '',
  };
}

/** A whole number as a number; anything else as typed, so the server's reason names the field. */
function numberOrText(text: string): number | string {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

/**
 * Create a rule, or change one (kind is fixed once created). Validation is the server's: a 400
 * names the field and its reason appears under it, as the API words it.
 */
export function RuleForm({
  rule,
  channels,
  onSaved,
  onCancel,
}: {
  rule?: AlertRule;
  channels: AlertChannel[];
  onSaved(rule: AlertRule): void;
  onCancel(): void;
}) {
  const api = useApi();
  const [values, setValues] = useState<Values>(() => initialValues(rule));
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [channelIds, setChannelIds] = useState<string[]>(rule?.channel_ids ?? []);
  const [busy, setBusy] = useState(false);
  const { setError, byField, unplaced } = useServerErrors(FIELDS);
  const prefix = rule ? `rule-${rule.id}` : 'rule-new';
  const set = (name: keyof Values) => (e: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [name]: e.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    // Empty parameters are left out (the server says which are required); empty scope clears it on edit.
    const parameters = Object.fromEntries(
      (['offline_seconds', 'threshold', 'window_seconds'] as const)
        .filter((name) => values[name].trim() !== '')
        .map((name) => [name, numberOrText(values[name])]),
    );
    const scope = Object.fromEntries(
      (['environment', 'agent_type', 'label'] as const)
        .map((name) => [name, values[name].trim() || (rule ? null : undefined)] as const)
        .filter(([, value]) => value !== undefined),
    );
    const body = { name: values.name, enabled, ...scope, ...parameters, channel_ids: channelIds };
    try {
      onSaved(
        rule
          ? await api.patch<AlertRule>(`/api/v1/alerts/rules/${encodeURIComponent(rule.id)}`, body)
          : await api.post<AlertRule>('/api/v1/alerts/rules', { ...body, kind: values.kind }),
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const kind = values.kind;
  return (
    <form
      className="provision alert-form"
      onSubmit={submit}
      noValidate
      aria-label={rule ? `Edit rule ${rule.name}` : 'New rule'}
    >
      <Field id={`${prefix}-name`} label="Name" error={byField.name}>
        {(props) => <input {...props} value={values.name} onChange={set('name')} />}
      </Field>
      <Field id={`${prefix}-kind`} label="When" error={byField.kind} hint={KIND_HELP[kind]}>
        {(props) => (
          <select {...props} value={kind} onChange={set('kind')} disabled={Boolean(rule)}>
            {RULE_KINDS.map((k) => (
              <option key={k} value={k}>
                {k.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        )}
      </Field>
      {kind === 'agent_offline' && (
        <Field id={`${prefix}-offline_seconds`} label="Offline for (seconds)" error={byField.offline_seconds}>
          {(props) => (
            <input
              {...props}
              inputMode="numeric"
              value={values.offline_seconds}
              onChange={set('offline_seconds')}
            />
          )}
        </Field>
      )}
      {kind === 'enrollment_failures' && (
        <>
          <Field id={`${prefix}-threshold`} label="Failures (at least)" error={byField.threshold}>
            {(props) => (
              <input {...props} inputMode="numeric" value={values.threshold} onChange={set('threshold')} />
            )}
          </Field>
          <Field id={`${prefix}-window_seconds`} label="Within (seconds)" error={byField.window_seconds}>
            {(props) => (
              <input
                {...props}
                inputMode="numeric"
                value={values.window_seconds}
                onChange={set('window_seconds')}
              />
            )}
          </Field>
        </>
      )}
      <Field id={`${prefix}-environment`} label="Environment (optional)" error={byField.environment}>
        {(props) => <input {...props} value={values.environment} onChange={set('environment')} />}
      </Field>
      <Field
        id={`${prefix}-agent_type`}
        label="Agent type (optional)"
        hint="docker, kubernetes or server"
        error={byField.agent_type}
      >
        {(props) => <input {...props} value={values.agent_type} onChange={set('agent_type')} />}
      </Field>
      <Field id={`${prefix}-label`} label="Label (optional)" hint="key=value" error={byField.label}>
        {(props) => <input {...props} value={values.label} onChange={set('label')} />}
      </Field>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
      </label>
      <fieldset
        className="channel-choice"
        aria-invalid={byField.channel_ids ? true : undefined}
        aria-describedby={byField.channel_ids ? `${prefix}-channel_ids-error` : undefined}
      >
        <legend>Notify</legend>
        {channels.length === 0 && <p className="muted">No channels yet: create one first.</p>}
        {channels.map((channel) => (
          <label key={channel.id} className="checkbox">
            <input
              type="checkbox"
              checked={channelIds.includes(channel.id)}
              onChange={(e) =>
                setChannelIds((ids) =>
                  e.target.checked ? [...ids, channel.id] : ids.filter((id) => id !== channel.id),
                )
              }
            />{' '}
            {channel.name} <span className="muted">({channel.type})</span>
          </label>
        ))}
        {byField.channel_ids && (
          <p
            id={`${prefix}-channel_ids-error`}
            className="field-error"
            data-testid={`${prefix}-channel_ids-error`}
          >
            {byField.channel_ids}
          </p>
        )}
      </fieldset>
      <FormError unplaced={unplaced} count={Object.keys(byField).length} />
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : rule ? 'Save rule' : 'Create rule'}
        </button>
      </div>
    </form>
  );
}
