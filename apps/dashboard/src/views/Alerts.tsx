import { useRef, useState } from 'react';
import { ApiError, itemsOf } from '../api/client';
import { useApi, useLoader } from '../api/context';
import { useLiveEvents } from '../api/live';
import { Ago, ErrorMessage, formatNumber, Loading, Pagination } from '../components/common';
import { Link, setSearch, useLocation } from '../router';

/** The alerting API's JSON (snake_case forms of Alert, AlertRule, AlertChannel in libs/contracts/src/alerts.ts). */
interface AlertItem {
  id: string;
  rule_id: string;
  rule_name: string;
  kind: string;
  state: 'pending' | 'firing' | 'resolved' | 'cancelled';
  agent_id: string | null;
  /** The agent's hostname from the registry (null when it is gone). */
  agent_hostname?: string | null;
  environment: string | null;
  summary: string;
  opened_at: string;
  fired_at: string | null;
  resolved_at: string | null;
  acknowledged_at?: string | null;
  acknowledged_by?: string | null;
}
interface DeliveryItem {
  id: string;
  alert_id: string;
  transition: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
}
interface TestResult {
  delivered: boolean;
  status_code: number | null;
  error: string | null;
}
interface AlertRule {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  environment: string | null;
  agent_type: string | null;
  label: string | null;
  offline_seconds: number | null;
  threshold: number | null;
  window_seconds: number | null;
  channel_ids: string[];
}
interface AlertChannel {
  id: string;
  name: string;
  type: string;
  url: string;
  secret_hint: string;
}
type Listing<T> = T[] | { items: T[]; total?: number };

const PAGE_SIZE = 50;
const STATES = ['firing', 'pending', 'resolved', 'cancelled'];

function ruleCondition(rule: AlertRule): string {
  const scope = [rule.environment, rule.agent_type, rule.label].filter(Boolean).join(', ');
  const what =
    rule.kind === 'agent_offline'
      ? `agent offline for more than ${rule.offline_seconds}s`
      : rule.kind === 'enrollment_failures'
        ? `${rule.threshold} enrollment failures within ${rule.window_seconds}s`
        : rule.kind.replace(/_/g, ' ');
  return scope ? `${what} (${scope})` : what;
}

/** Alerts of the organisation, and the rules and channels that produce them (managed over the API). */
export function Alerts() {
  const api = useApi();
  const { search } = useLocation();
  const state = search.get('state') ?? '';
  const offset = Math.max(0, Number(search.get('offset') ?? 0) || 0);
  const alerts = useLoader(
    (signal) => api.get<Listing<AlertItem>>('/api/v1/alerts', { state, limit: PAGE_SIZE, offset }, signal),
    [state, offset],
  );
  const rules = useLoader(
    (signal) => api.get<Listing<AlertRule>>('/api/v1/alerts/rules', undefined, signal),
    [],
  );
  const channels = useLoader(
    (signal) => api.get<Listing<AlertChannel>>('/api/v1/alerts/channels', undefined, signal),
    [],
  );
  const refresh = useRef<number | undefined>(undefined);
  useLiveEvents((event) => {
    if (!event.kind.startsWith('agent.')) return;
    window.clearTimeout(refresh.current);
    refresh.current = window.setTimeout(alerts.reload, 3000);
  });

  if (alerts.error instanceof ApiError && alerts.error.status === 404) {
    return (
      <section>
        <h1>Alerts</h1>
        <p className="muted">Alerting is not enabled on this platform.</p>
      </section>
    );
  }
  const items = itemsOf(alerts.data);
  const total =
    alerts.data && !Array.isArray(alerts.data) ? (alerts.data.total ?? items.length) : items.length;
  const channelNames = new Map(itemsOf(channels.data).map((c) => [c.id, c.name]));

  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <form className="filters" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
        <label>
          State
          <select value={state} onChange={(e) => setSearch({ state: e.target.value })}>
            <option value="">All</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </form>
      <ErrorMessage error={alerts.error} title="Could not load alerts." />
      {alerts.loading && !alerts.data && <Loading what="alerts" />}
      {alerts.data && (
        <>
          <table>
            <caption className="visually-hidden">Alerts</caption>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Rule</th>
                <th scope="col">Summary</th>
                <th scope="col">Agent</th>
                <th scope="col">Opened</th>
                <th scope="col">Resolved</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No alerts.
                  </td>
                </tr>
              )}
              {items.map((alert) => (
                <tr key={alert.id}>
                  <td>
                    <span className={`badge badge-alert-${alert.state}`}>{alert.state}</span>
                  </td>
                  <td>{alert.rule_name}</td>
                  <td>{alert.summary}</td>
                  <td>
                    {alert.agent_id ? (
                      <Link href={`/agents/${encodeURIComponent(alert.agent_id)}`} title={alert.agent_id}>
                        {alert.agent_hostname || alert.agent_id}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    <Ago iso={alert.opened_at} />
                  </td>
                  <td>
                    <Ago iso={alert.resolved_at} />
                  </td>
                  <td>
                    <AlertActions alert={alert} onChanged={alerts.reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pagination
            label="Alerts"
            total={total}
            limit={PAGE_SIZE}
            offset={offset}
            onChange={(next) => setSearch({ state, offset: next || undefined })}
          />
        </>
      )}
      <div className="grid-2">
        <section className="panel" aria-labelledby="rules-title">
          <h2 id="rules-title">Rules ({formatNumber(itemsOf(rules.data).length)})</h2>
          <ErrorMessage error={rules.error} />
          <ul className="plain">
            {itemsOf(rules.data).map((rule) => (
              <li key={rule.id}>
                <strong>{rule.name}</strong> {!rule.enabled && <span className="muted">(disabled)</span>}
                <br />
                <span className="muted">
                  {ruleCondition(rule)} →{' '}
                  {rule.channel_ids.map((id) => channelNames.get(id) ?? id).join(', ')}
                </span>
              </li>
            ))}
          </ul>
          <p className="muted">
            Rules and channels are managed with <code>/api/v1/alerts/rules</code> and{' '}
            <code>/api/v1/alerts/channels</code> (see <a href="/docs">API docs</a>).
          </p>
        </section>
        <section className="panel" aria-labelledby="channels-title">
          <h2 id="channels-title">Channels</h2>
          <ErrorMessage error={channels.error} />
          <ul className="plain">
            {itemsOf(channels.data).map((channel) => (
              <ChannelItem key={channel.id} channel={channel} />
            ))}
          </ul>
        </section>
      </div>
    </section>
  );
}

/** Acknowledge (it keeps firing, marked) or resolve by hand; the server's refusal is shown as it said it. */
function AlertActions({ alert, onChanged }: { alert: AlertItem; onChanged(): void }) {
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const open = alert.state === 'firing' || alert.state === 'pending';
  const act = async (action: 'acknowledge' | 'resolve') => {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/v1/alerts/${encodeURIComponent(alert.id)}/${action}`);
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {alert.acknowledged_at && (
        <span className="muted" data-testid="acknowledged">
          acknowledged <Ago iso={alert.acknowledged_at} />
        </span>
      )}
      {open && !alert.acknowledged_at && (
        <button type="button" className="small" disabled={busy} onClick={() => act('acknowledge')}>
          Acknowledge
        </button>
      )}
      {open && (
        <button type="button" className="small" disabled={busy} onClick={() => act('resolve')}>
          Resolve
        </button>
      )}
      <ErrorMessage error={error} />
    </>
  );
}

/** A channel with a test button and its delivery log, failures with their reason. */
function ChannelItem({ channel }: { channel: AlertChannel }) {
  const api = useApi();
  const [test, setTest] = useState<TestResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [showLog, setShowLog] = useState(false);
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
  const sendTest = async () => {
    setBusy(true);
    setError(null);
    try {
      setTest(await api.post<TestResult>(`/api/v1/alerts/channels/${encodeURIComponent(channel.id)}/test`));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li data-channel-id={channel.id}>
      <strong>{channel.name}</strong> <span className="muted">({channel.type})</span>
      <br />
      <code>{channel.url}</code>
      <div className="row-actions">
        <button type="button" className="small" disabled={busy} onClick={sendTest}>
          Send test
        </button>
        <button type="button" className="small" onClick={() => setShowLog(!showLog)} aria-expanded={showLog}>
          Delivery log
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
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
