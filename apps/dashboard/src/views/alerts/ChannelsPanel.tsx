import { useState } from 'react';
import { itemsOf } from '../../api/client';
import { useApi, useInterval, useLoader } from '../../api/context';
import { Ago, ConfirmDialog, CopyButton, ErrorMessage } from '../../components/common';
import { AlertChannel, CreatedAlertChannel, DeliveryItem, Listing, TestResult } from './alert-types';
import { ChannelForm } from './ChannelForm';

/** While a delivery log is open it follows retries (the delivery worker backs off from 2 s). */
const LOG_REFRESH_MS = 5000;

/** Notification channels: create, edit, delete, send a test, read each one's delivery log. */
export function ChannelsPanel({
  channels,
  error,
  onChanged,
}: {
  channels: AlertChannel[];
  error: unknown;
  onChanged(): void;
}) {
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedAlertChannel | null>(null);
  return (
    <section className="panel" aria-labelledby="channels-title">
      <h2 id="channels-title">Channels</h2>
      <ErrorMessage error={error} />
      {created && (
        <div className="secret" role="status" data-testid="channel-secret">
          <p>
            Channel <strong>{created.name}</strong> created. Its signing secret (the{' '}
            <code>X-Rca-Signature</code> HMAC key) is shown <strong>only now</strong>:
          </p>
          <code data-testid="channel-secret-value">{created.secret}</code>{' '}
          <CopyButton text={created.secret} />
          <div className="actions">
            <button type="button" className="small" onClick={() => setCreated(null)}>
              I have stored it
            </button>
          </div>
        </div>
      )}
      <ul className="plain">
        {channels.map((channel) => (
          <ChannelItem key={channel.id} channel={channel} onChanged={onChanged} />
        ))}
      </ul>
      {creating ? (
        <ChannelForm
          onCancel={() => setCreating(false)}
          onSaved={(channel) => {
            setCreating(false);
            setCreated(channel as CreatedAlertChannel);
            onChanged();
          }}
        />
      ) : (
        <button type="button" onClick={() => setCreating(true)}>
          New channel
        </button>
      )}
    </section>
  );
}

/** A channel with edit, delete and test buttons and its delivery log, failures with their reason. */
function ChannelItem({ channel, onChanged }: { channel: AlertChannel; onChanged(): void }) {
  const api = useApi();
  const [test, setTest] = useState<TestResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [showLog, setShowLog] = useState(false);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const log = useLoader(
    async (signal) =>
      showLog
        ? itemsOf(
            await api.get<Listing<DeliveryItem>>(
              '/api/v1/alerts/deliveries',
              { channel_id: channel.id, limit: 20 },
              signal,
            ),
          )
        : [],
    [showLog],
  );
  useInterval(log.reload, showLog ? LOG_REFRESH_MS : null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const path = `/api/v1/alerts/channels/${encodeURIComponent(channel.id)}`;
  const sendTest = () => run(async () => setTest(await api.post<TestResult>(`${path}/test`)));
  const remove = () =>
    run(async () => {
      await api.delete(path);
      setConfirmDelete(false);
      onChanged();
    });

  if (editing) {
    return (
      <li data-channel-id={channel.id}>
        <ChannelForm
          channel={channel}
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
    <li data-channel-id={channel.id}>
      <strong>{channel.name}</strong> <span className="muted">({channel.type})</span>
      <br />
      <code title="The URL is shown masked: parts that may be credentials are hidden">
        {channel.url}
      </code>{' '}
      <span className="muted">secret {channel.secret_hint}…</span>
      <div className="row-actions">
        <button type="button" className="small" disabled={busy} onClick={sendTest}>
          Send test
        </button>
        <button type="button" className="small" onClick={() => setShowLog(!showLog)} aria-expanded={showLog}>
          Delivery log
        </button>
        <button type="button" className="small" onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" className="small danger" onClick={() => setConfirmDelete(true)}>
          Delete
        </button>
      </div>
      {test && (
        <p role="status" data-testid="channel-test-result" className={test.delivered ? 'ok' : 'field-error'}>
          {test.delivered
            ? `Test delivered (HTTP ${test.status_code})`
            : `Test failed: ${test.error ?? `HTTP ${test.status_code}`}`}
        </p>
      )}
      <ErrorMessage error={error} />
      {showLog && (
        <ul className="plain delivery-log" data-testid="delivery-log">
          {(log.data ?? []).length === 0 && <li className="muted">No deliveries yet.</li>}
          {(log.data ?? []).map((d) => (
            <li key={d.id} data-status={d.status}>
              <strong>{d.status}</strong> {d.transition}, {d.attempts} attempt{d.attempts === 1 ? '' : 's'}{' '}
              <Ago iso={d.created_at} />
              {d.last_error && <span className="field-error"> — {d.last_error}</span>}
              {!d.last_error && d.last_status_code !== null && (
                <span className="muted"> — HTTP {d.last_status_code}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {confirmDelete && (
        <ConfirmDialog
          open
          title={`Delete channel “${channel.name}”?`}
          confirmLabel="Delete channel"
          busy={busy}
          onConfirm={remove}
          onCancel={() => setConfirmDelete(false)}
        >
          <p>Its undelivered notifications fail.</p>
        </ConfirmDialog>
      )}
    </li>
  );
}
