import { useState } from 'react';
import { useApi } from '../../api/context';
import { ConfirmDialog, ErrorMessage, formatNumber } from '../../components/common';
import { AlertChannel, AlertRule } from './alert-types';
import { RuleForm } from './RuleForm';

export function ruleCondition(rule: AlertRule): string {
  const scope = [rule.environment, rule.agent_type, rule.label].filter(Boolean).join(', ');
  const what =
    rule.kind === 'agent_offline'
      ? `agent offline for more than ${rule.offline_seconds}s`
      : rule.kind === 'enrollment_failures'
        ? `${rule.threshold} enrollment failures within ${rule.window_seconds}s`
        : rule.kind.replace(/_/g, ' ');
  return scope ? `${what} (${scope})` : what;
}

/** The organisation's alert rules: list, create, edit, delete. */
export function RulesPanel({
  rules,
  channels,
  error,
  onChanged,
}: {
  rules: AlertRule[];
  channels: AlertChannel[];
  error: unknown;
  onChanged(): void;
}) {
  const [creating, setCreating] = useState(false);
  return (
    <section className="panel" aria-labelledby="rules-title">
      <h2 id="rules-title">Rules ({formatNumber(rules.length)})</h2>
      <ErrorMessage error={error} />
      <ul className="plain">
        {rules.map((rule) => (
          <RuleItem key={rule.id} rule={rule} channels={channels} onChanged={onChanged} />
        ))}
      </ul>
      {creating ? (
        <RuleForm
          channels={channels}
          onCancel={() => setCreating(false)}
          onSaved={() => {
            setCreating(false);
            onChanged();
          }}
        />
      ) : (
        <button type="button" onClick={() => setCreating(true)}>
          New rule
        </button>
      )}
    </section>
  );
}

function RuleItem({
  rule,
  channels,
  onChanged,
}: {
  rule: AlertRule;
  channels: AlertChannel[];
  onChanged(): void;
}) {
  const api = useApi();
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const channelNames = new Map(channels.map((c) => [c.id, c.name]));
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.delete(`/api/v1/alerts/rules/${encodeURIComponent(rule.id)}`);
      setConfirmDelete(false);
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  if (editing) {
    return (
      <li data-rule-id={rule.id}>
        <RuleForm
          rule={rule}
          channels={channels}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      </li>
    );
  }
  return (
    <li data-rule-id={rule.id}>
      <strong>{rule.name}</strong> {!rule.enabled && <span className="muted">(disabled)</span>}
      <br />
      <span className="muted">
        {ruleCondition(rule)} → {rule.channel_ids.map((id) => channelNames.get(id) ?? id).join(', ')}
      </span>
      <div className="row-actions">
        <button type="button" className="small" onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" className="small danger" onClick={() => setConfirmDelete(true)}>
          Delete
        </button>
      </div>
      <ErrorMessage error={error} />
      {confirmDelete && (
        <ConfirmDialog
          open
          title={`Delete rule “${rule.name}”?`}
          confirmLabel="Delete rule"
          busy={busy}
          onConfirm={remove}
          onCancel={() => setConfirmDelete(false)}
        >
          <p>Its pending alerts are dropped.</p>
        </ConfirmDialog>
      )}
    </li>
  );
}
