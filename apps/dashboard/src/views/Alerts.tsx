import { useRef, useState } from 'react';
import { ApiError, itemsOf } from '../api/client';
import { useApi, useLoader } from '../api/context';
import { useLiveEvents } from '../api/live';
import { Ago, ErrorMessage, Loading, Pagination } from '../components/common';
import { Link, setSearch, useLocation } from '../router';
import { AlertChannel, AlertItem, AlertRule, Listing } from './alerts/alert-types';
import { ChannelsPanel } from './alerts/ChannelsPanel';
import { RulesPanel } from './alerts/RulesPanel';

const PAGE_SIZE = 50;
const STATES = ['firing', 'pending', 'resolved', 'cancelled'];

/** Alerts of the organisation, and the rules and channels that produce them. */
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
        <RulesPanel
          rules={itemsOf(rules.data)}
          channels={itemsOf(channels.data)}
          error={rules.error}
          onChanged={rules.reload}
        />
        <ChannelsPanel
          channels={itemsOf(channels.data)}
          error={channels.error}
          onChanged={() => {
            channels.reload();
            rules.reload();
          }}
        />
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
