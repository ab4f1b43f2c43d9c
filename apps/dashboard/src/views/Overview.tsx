import { useRef } from 'react';
import { useApi, useLoader } from '../api/context';
import { useLiveEvents } from '../api/live';
import type { FleetSummary, Page } from '../api/types';
import { AGENT_STATUSES } from '../api/types';
import { Ago, ErrorMessage, formatNumber, Loading, StatusBadge } from '../components/common';
import { Link } from '../router';

const LIVENESS_KINDS = new Set(['agent.registered', 'agent.online', 'agent.offline', 'agent.revoked']);
/** Many agents flapping at once must not turn into a summary request per event. */
const REFRESH_DEBOUNCE_MS = 2000;

export function Overview() {
  const api = useApi();
  const summary = useLoader(
    (signal) => api.get<FleetSummary>('/api/v1/fleet/summary', undefined, signal),
    [],
  );
  const refresh = useRef<number | undefined>(undefined);
  useLiveEvents((event) => {
    if (!LIVENESS_KINDS.has(event.kind)) return;
    window.clearTimeout(refresh.current);
    refresh.current = window.setTimeout(summary.reload, REFRESH_DEBOUNCE_MS);
  });

  const data = summary.data;
  return (
    <section aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">Fleet overview</h1>
        <Link href="/add-agent" className="button primary">
          Add an agent
        </Link>
      </div>
      <ErrorMessage error={summary.error} title="Could not load the overview." />
      {!data && summary.loading && <Loading what="the fleet" />}
      {data && (
        <>
          <div className="cards" role="list" aria-label="Agents by status">
            <div className="card" role="listitem">
              <span className="card-label">Agents</span>
              <Link href="/agents" className="card-value">
                {formatNumber(data.total)}
              </Link>
            </div>
            {AGENT_STATUSES.map((status) => (
              <div className={`card card-${status}`} role="listitem" key={status}>
                <span className="card-label">
                  <StatusBadge status={status} />
                </span>
                <Link
                  href={`/agents?status=${status}`}
                  className="card-value"
                  aria-label={`${status} agents`}
                >
                  {formatNumber(data.by_status[status] ?? 0)}
                </Link>
              </div>
            ))}
          </div>

          {data.total === 0 && (
            <p className="notice">
              No agents yet. <Link href="/add-agent">Add your first agent</Link>: pick where it runs, paste
              one command.
            </p>
          )}

          <div className="grid-2">
            <CountTable
              caption="By type"
              rows={data.by_type.map((t) => ({
                key: t.type,
                label: t.display_name,
                count: t.count,
                href: `/agents?type=${t.type}`,
              }))}
            />
            <CountTable
              caption={data.environments_truncated ? 'By environment (first 100)' : 'By environment'}
              rows={data.by_environment.map((e) => ({
                key: e.environment,
                label: e.environment,
                count: e.count,
                href: `/agents?environment=${e.environment}`,
              }))}
            />
          </div>

          <div className="grid-2">
            <section aria-labelledby="recent-offline-title" className="panel">
              <h2 id="recent-offline-title">Went offline in the last hour</h2>
              {data.recently_offline === null ? (
                <p className="muted">The EVENTS stream could not be read.</p>
              ) : data.recently_offline.agents.length === 0 ? (
                <p className="muted">None.</p>
              ) : (
                <ul className="plain">
                  {data.recently_offline.agents.slice(0, 20).map((a) => (
                    <li key={a.agent_id}>
                      <Link href={`/agents/${encodeURIComponent(a.agent_id)}`} title={a.agent_id}>
                        {a.hostname || a.agent_id}
                      </Link>{' '}
                      <span className="muted">
                        {a.environment} · <Ago iso={a.at} />
                      </span>
                    </li>
                  ))}
                  {data.recently_offline.agents.length > 20 && (
                    <li className="muted">and {data.recently_offline.agents.length - 20} more</li>
                  )}
                </ul>
              )}
            </section>
            <IngestionPanel summary={data} />
          </div>
          <FiringAlerts />
        </>
      )}
    </section>
  );
}

function CountTable({
  caption,
  rows,
}: {
  caption: string;
  rows: { key: string; label: string; count: number; href: string }[];
}) {
  return (
    <table className="panel">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col" className="num">
            Agents
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={2} className="muted">
              None yet.
            </td>
          </tr>
        )}
        {rows.map((row) => (
          <tr key={row.key}>
            <td>
              <Link href={row.href}>{row.label}</Link>
            </td>
            <td className="num">{formatNumber(row.count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function IngestionPanel({ summary }: { summary: FleetSummary }) {
  const stats = summary.ingestion;
  const rejected = stats ? Object.entries(stats.rejected_by_reason).sort((a, b) => b[1] - a[1]) : [];
  return (
    <section aria-labelledby="ingestion-title" className="panel">
      <h2 id="ingestion-title">Ingestion health</h2>
      {!stats ? (
        <p className="error">Ingestion did not answer: {summary.ingestion_error ?? 'unknown reason'}</p>
      ) : (
        <>
          <dl className="facts">
            <dt>Consumer lag</dt>
            <dd>{formatNumber(stats.consumer_lag)} messages</dd>
            <dt>Agents tracked / online</dt>
            <dd>
              {formatNumber(stats.agents_tracked)} / {formatNumber(stats.agents_online)}
            </dd>
            <dt>Samples stored</dt>
            <dd>{formatNumber(stats.samples_stored)}</dd>
            <dt>Heartbeats accepted</dt>
            <dd>{formatNumber(stats.heartbeats_accepted)}</dd>
            <dt>Dead-lettered</dt>
            <dd>{formatNumber(stats.dead_lettered)}</dd>
          </dl>
          <h3>Rejected messages by reason</h3>
          {rejected.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="plain">
              {rejected.map(([reason, count]) => (
                <li key={reason}>
                  <code>{reason}</code>: {formatNumber(count)}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

interface FiringAlert {
  id: string;
  rule_name: string;
  summary: string;
  agent_id: string | null;
  fired_at: string | null;
}

/** Firing alerts, when the platform runs alerting (otherwise the panel stays out of the way). */
function FiringAlerts() {
  const api = useApi();
  const alerts = useLoader(
    (signal) => api.get<Page<FiringAlert>>('/api/v1/alerts', { state: 'firing', limit: 5 }, signal),
    [],
  );
  if (!alerts.data) return null;
  return (
    <section aria-labelledby="firing-title" className="panel">
      <h2 id="firing-title">
        Firing alerts: {formatNumber(alerts.data.total)} <Link href="/alerts?state=firing">see all</Link>
      </h2>
      {alerts.data.items.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="plain">
          {alerts.data.items.map((alert) => (
            <li key={alert.id}>
              <span className="badge badge-alert-firing">firing</span> <strong>{alert.rule_name}</strong>:{' '}
              {alert.summary} · <Ago iso={alert.fired_at} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
