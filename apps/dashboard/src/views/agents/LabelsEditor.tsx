import { FormEvent, useState } from 'react';
import { useApi } from '../../api/context';
import type { Agent } from '../../api/types';
import { ErrorMessage } from '../../components/common';

/**
 * An agent's labels, editable: each can be removed, one added (or overwritten) at a time, through
 * `PATCH /api/v1/agents/:id/labels`. The server validates; its 400 names the field shown here.
 */
export function LabelsEditor({ agent, onSaved }: { agent: Agent; onSaved(agent: Agent): void }) {
  const api = useApi();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const labels = Object.entries(agent.labels ?? {});

  const save = async (changes: { set?: Record<string, string>; remove?: string[] }) => {
    setBusy(true);
    try {
      const saved = await api.patch<Agent>(`/api/v1/agents/${encodeURIComponent(agent.id)}/labels`, changes);
      setError(null);
      onSaved(saved);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (await save({ set: { [key.trim()]: value } })) {
      setKey('');
      setValue('');
    }
  };

  return (
    <div className="labels-editor">
      {labels.length === 0 && <span className="muted">—</span>}
      {labels.map(([k, v]) => (
        <span className="label" key={k} data-testid="label">
          {k}={v}
          {agent.status !== 'revoked' && (
            <button
              type="button"
              className="link"
              disabled={busy}
              aria-label={`Remove label ${k}`}
              onClick={() => void save({ remove: [k] })}
            >
              ×
            </button>
          )}
        </span>
      ))}
      {agent.status !== 'revoked' && (
        <form className="label-form" aria-label="Add a label" onSubmit={add}>
          <input
            aria-label="Label key"
            placeholder="key"
            value={key}
            required
            onChange={(e) => setKey(e.target.value)}
          />
          <input
            aria-label="Label value"
            placeholder="value"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
          <button type="submit" className="small" disabled={busy || key.trim() === ''}>
            Add label
          </button>
        </form>
      )}
      <ErrorMessage error={error} title="Labels not saved." />
    </div>
  );
}
