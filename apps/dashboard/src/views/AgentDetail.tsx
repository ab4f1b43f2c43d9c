import { useState } from 'react';
import { useApi, useInterval, useLoader } from '../api/context';
import { useLiveEvents } from '../api/live';
import type {
  Agent,
  AuditEntry,
  DeclaredMetric,
  MetricsCatalog,
  MetricsQueryResult,
  Page,
} from '../api/types';
import {
  Ago,
  LastSeen,
  ConfirmDialog,
  ErrorMessage,
  formatTime,
  Loading,
  StatusBadge,
} from '../components/common';
import { TimeSeriesChart } from '../components/TimeSeriesChart';
import { Link } from '../router';
import { useAgentTypes } from './shared';
import { AuditActor } from './audit-entry';
import { LabelsEditor } from './agents/LabelsEditor';
import { AgentConfigPanel } from './config/ConfigStatus';
import { AgentHealthPanel } from './AgentHealthPanel';
import { AppMetricsSourcesPanel } from './AppMetricsSourcesPanel';
import { withSentMetrics } from './metric-choices';

export const RANGES = [
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 hour', ms: 3600_000 },
  { label: '6 hours', ms: 6 * 3600_000 },
  { label: '24 hours', ms: 86400_000 },
  { label: '7 days', ms: 7 * 86400_000 },
];
/** About this many buckets per chart: enough detail, never near the server's bucket cap. */
const TARGET_POINTS = 240;
const MIN_STEP_SECONDS = 10;

/** What an SRE looks at first, by metric name; anything else the type declares can be added. */
const HEADLINE = [
  /cpu\.usage$/,
  /memory\.(usage|percent)$/,
  /disk\.usage$/,
  /network\.rx_rate$/,
  /network\.tx_rate$/,
  /^docker\.containers$/,
  /container\.cpu\.usage$/,
  /(nodes|pods)(\.|$)/,
];

export function headlineMetrics(metrics: DeclaredMetric[]): DeclaredMetric[] {
  const picked = HEADLINE.flatMap((pattern) => metrics.filter((m) => pattern.test(m.name)).slice(0, 1));
  return [...new Set(picked)].slice(0, 6);
}

export function stepFor(rangeMs: number): number {
  return Math.max(MIN_STEP_SECONDS, Math.round(rangeMs / 1000 / TARGET_POINTS));
}

interface StatusChange {
  at: string;
  status: string;
}

export function AgentDetail({ id }: { id: string }) {
  const api = useApi();
  const path = `/api/v1/agents/${encodeURIComponent(id)}`;
  const agent = useLoader((signal) => api.get<Agent>(path, undefined, signal), [id]);
  const history = useLoader(
    (signal) => api.get<Page<AuditEntry>>('/api/v1/audit', { agent_id: id, limit: 20 }, signal),
    [id],
  );
  // Metric discovery: what this agent actually sent (the declared table may not be all of it).
  const catalog = useLoader((signal) => api.get<MetricsCatalog>(`${path}/metrics`, undefined, signal), [id]);
  const types = useAgentTypes();
  const [live, setLive] = useState<StatusChange[]>([]);
  const [range, setRange] = useState(RANGES[1].ms);
  const [extra, setExtra] = useState<string[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [revokeError, setRevokeError] = useState<unknown>(null);

  useLiveEvents((event) => {
    if (event.agent_id !== id || !event.kind.startsWith('agent.')) return;
    setLive((changes) =>
      [{ at: event.occurred_at, status: event.kind.replace('agent.', '') }, ...changes].slice(0, 20),
    );
    agent.reload();
  });

  const revoke = async () => {
    try {
      await api.delete(path);
      setConfirming(false);
      agent.reload();
    } catch (error) {
      setRevokeError(error);
    }
  };

  if (!agent.data) {
    return (
      <section>
        <p>
          <Link href="/agents">← Agents</Link>
        </p>
        {agent.loading ? (
          <Loading what="the agent" />
        ) : (
          <ErrorMessage error={agent.error} title="Could not load the agent." />
        )}
      </section>
    );
  }
  const a = agent.data;
  const type = types.data?.find((t) => t.type === a.type);
  // Info metrics (always 1, tags are the facts) make a flat line, not a chart.
  const declared = (type?.metrics ?? []).filter((m) => !m.info);
  const offered = withSentMetrics(declared, catalog.data, type?.metrics);
  const charts = [...headlineMetrics(declared), ...offered.filter((m) => extra.includes(m.name))];
  const chartNames = new Set(charts.map((m) => m.name));

  return (
    <section aria-labelledby="agent-title">
      <p>
        <Link href="/agents">← Agents</Link>
      </p>
      <div className="page-head">
        <h1 id="agent-title">
          {a.hostname} <StatusBadge status={a.status} />
        </h1>
        {a.status !== 'revoked' && (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Revoke agent
          </button>
        )}
      </div>
      <div className="grid-2">
        <dl className="facts panel" aria-label="Identity">
          <dt>Agent id</dt>
          <dd>
            <code>{a.id}</code>
          </dd>
          <dt>Type</dt>
          <dd>{type?.display_name ?? a.type}</dd>
          <dt>Environment</dt>
          <dd>{a.environment}</dd>
          <dt>Host</dt>
          <dd>
            {a.hostname} <span className="muted">({a.os})</span>
          </dd>
          <dt>Host id</dt>
          <dd>
            <code>{a.host_id}</code>
          </dd>
          <dt>Agent version</dt>
          <dd>{a.version}</dd>
          <dt>First seen</dt>
          <dd>{formatTime(a.first_seen_at)}</dd>
          <dt>Last seen</dt>
          <dd>
            <LastSeen status={a.status} iso={a.last_seen_at} />
          </dd>
          {a.revoked_at && (
            <>
              <dt>Revoked</dt>
              <dd>{formatTime(a.revoked_at)}</dd>
            </>
          )}
          <dt>Labels</dt>
          <dd>
            <LabelsEditor agent={a} onSaved={agent.reload} />
          </dd>
        </dl>
        <section className="panel" aria-labelledby="history-title">
          <h2 id="history-title">Status history</h2>
          <ul className="plain">
            {live.map((change, i) => (
              <li key={`live-${i}`}>
                <StatusBadge status={change.status} /> <Ago iso={change.at} />
              </li>
            ))}
            {(history.data?.items ?? []).map((entry) => (
              <li key={entry.id}>
                <code>{entry.action}</code>{' '}
                <span className="muted">
                  by <AuditActor entry={entry} />
                </span>{' '}
                · <Ago iso={entry.at} />
              </li>
            ))}
          </ul>
          {live.length === 0 && (history.data?.items.length ?? 0) === 0 && (
            <p className="muted">Nothing recorded yet.</p>
          )}
          <ErrorMessage error={history.error} />
        </section>
      </div>

      <AgentConfigPanel agentId={a.id} />
      <AgentHealthPanel agent={a} />
      <AppMetricsSourcesPanel agent={a} />

      <div className="page-head">
        <h2>Metrics</h2>
        <div role="group" aria-label="Time range" className="segmented">
          {RANGES.map((r) => (
            <button key={r.ms} type="button" aria-pressed={range === r.ms} onClick={() => setRange(r.ms)}>
              {r.label}
            </button>
          ))}
        </div>
      </div>
      {offered.length === 0 && <p className="muted">This agent has sent no metrics yet.</p>}
      <div className="charts">
        {charts.map((metric) => (
          <MetricChart key={metric.name} agentId={a.id} metric={metric} rangeMs={range} />
        ))}
      </div>
      {offered.length > chartNames.size && (
        <label className="add-metric">
          Add a chart
          <select value="" onChange={(e) => e.target.value && setExtra([...extra, e.target.value])}>
            <option value="">Choose a metric…</option>
            {offered
              .filter((m) => !chartNames.has(m.name))
              .map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name} — {m.description}
                </option>
              ))}
          </select>
        </label>
      )}
      <ConfirmDialog
        open={confirming}
        title="Revoke this agent?"
        confirmLabel="Revoke agent"
        onConfirm={revoke}
        onCancel={() => setConfirming(false)}
      >
        <p>
          <strong>{a.hostname}</strong> loses its credential; its next message is refused. No other agent is
          affected.
        </p>
        <ErrorMessage error={revokeError} />
      </ConfirmDialog>
    </section>
  );
}

/** Refreshes with the range's step, so a chart stays current without a request per second. */
function MetricChart({
  agentId,
  metric,
  rangeMs,
}: {
  agentId: string;
  metric: DeclaredMetric;
  rangeMs: number;
}) {
  const api = useApi();
  const step = stepFor(rangeMs);
  const [tick, setTick] = useState(0);
  const query = useLoader(
    (signal) => {
      const to = Date.now();
      return api.get<MetricsQueryResult>(
        `/api/v1/agents/${encodeURIComponent(agentId)}/metrics`,
        { name: metric.name, from: to - rangeMs, to, step },
        signal,
      );
    },
    [agentId, metric.name, rangeMs, tick],
  );
  useInterval(() => setTick((t) => t + 1), Math.max(15_000, step * 1000));

  if (query.error) {
    return (
      <figure className="chart">
        <figcaption>
          <strong>{metric.name}</strong>
        </figcaption>
        <ErrorMessage error={query.error} />
      </figure>
    );
  }
  if (!query.data)
    return (
      <figure className="chart" aria-busy="true">
        <figcaption>{metric.name}</figcaption>
      </figure>
    );
  return (
    <TimeSeriesChart
      title={query.data.stale ? `${metric.name} — ${staleNote(query.data.newest_sample_at)}` : metric.name}
      series={query.data.series}
      unit={query.data.series[0]?.unit ?? metric.unit}
      from={query.data.from}
      to={query.data.to}
    />
  );
}

/** Said under a chart whose newest sample is older than expected, so an outage never looks like a flat line. */
function staleNote(newestSampleAt: number | null): string {
  return newestSampleAt === null
    ? 'no samples stored'
    : `no new samples since ${new Date(newestSampleAt).toLocaleString()}`;
}
