import { FormEvent, useState } from 'react';
import { useApi } from '../../api/context';
import { AlertChannel, CHANNEL_TYPES, CreatedAlertChannel } from './alert-types';
import { Field, FormError, useServerErrors } from './form-errors';

const FIELDS = ['name', 'type', 'url'] as const;

/**
 * Create a channel, or rename / re-point one. The URL of a saved channel is never shown back whole
 * (a Slack URL is a credential): editing leaves it as it is unless a new one is typed.
 */
export function ChannelForm({
  channel,
  onSaved,
  onCancel,
}: {
  channel?: AlertChannel;
  onSaved(channel: AlertChannel | CreatedAlertChannel): void;
  onCancel(): void;
}) {
  const api = useApi();
  const [name, setName] = useState(channel?.name ?? '');
  const [type, setType] = useState<string>(channel?.type ?? 'webhook');
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const { setError, byField, unplaced } = useServerErrors(FIELDS);
  const prefix = channel ? `channel-${channel.id}` : 'channel-new';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSaved(
        channel
          ? await api.patch<AlertChannel>(`/api/v1/alerts/channels/${encodeURIComponent(channel.id)}`, {
              name,
              ...(url.trim() ? { url: url.trim() } : {}),
            })
          : await api.post<CreatedAlertChannel>('/api/v1/alerts/channels', { name, type, url: url.trim() }),
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="provision alert-form"
      onSubmit={submit}
      noValidate
      aria-label={channel ? `Edit channel ${channel.name}` : 'New channel'}
    >
      <Field id={`${prefix}-name`} label="Name" error={byField.name}>
        {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field
        id={`${prefix}-type`}
        label="Type"
        error={byField.type}
        hint={type === 'slack' ? 'A Slack incoming-webhook URL.' : 'Signed JSON POSTs to your endpoint.'}
      >
        {(props) => (
          <select
            {...props}
            value={type}
            onChange={(e) => setType(e.target.value)}
            disabled={Boolean(channel)}
          >
            {CHANNEL_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        )}
      </Field>
      <Field
        id={`${prefix}-url`}
        label={channel ? 'New URL (leave empty to keep it)' : 'URL'}
        error={byField.url}
        hint={channel ? `Now: ${channel.url}` : undefined}
      >
        {(props) => (
          <input
            {...props}
            type="url"
            autoComplete="off"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
        )}
      </Field>
      <FormError unplaced={unplaced} count={Object.keys(byField).length} />
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : channel ? 'Save channel' : 'Create channel'}
        </button>
      </div>
    </form>
  );
}
