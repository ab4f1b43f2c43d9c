import { FormEvent, useEffect, useState } from 'react';
import { useApi, useLoader } from '../api/context';
import { useLiveEvents } from '../api/live';
import type { Agent, AgentStatus, FleetVersions, Page } from '../api/types';
import { AGENT_STATUSES } from '../api/types';
import {
  LastSeen,
  ConfirmDialog,
  ErrorMessage,
  Loading,
  Pagination,
  StatusBadge,
} from '../components/common';
import { Link, setSearch, useLocation } from '../router';
import { useAgentTypes, useEnvironmentNames } from './shared';
import { BulkRevoke } from './agents/BulkRevoke';
import { ConfigStatusBadge, useConfigStatuses } from './config/ConfigStatus';

export const PAGE_SIZE = 50;
const FILTERS = ['environment', 'status', 'type', 'label', 'search', 'sort'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** Sortable columns: header text → the API's `sort` key. */
const SORTABLE: [string, string][] = [
  ['Hostname', 'hostname'],
  ['Id', 'id'],
  ['Status', 'status'],
  ['Environment', 'environment'],
  ['Type', 'type'],
  ['Version', 'version'],
];

/** A column header that sorts the table by its column, ascending then descending, through the URL. */
function SortHeader({ label, column, filters }: { label: string; column: string; filters: Filters }) {
  const current =
    filters.sort === column ? 'ascending' : filters.sort === `-${column}` ? 'descending' : 'none';
  const next = current === 'ascending' ? `-${column}` : column;
  return (
    <th scope="col" aria-sort={current}>
      <button
        type="button"
        className="sort"
        onClick={() => setSearch({ ...filters, sort: next, offset: undefined })}
      >
        {label}
        <span aria-hidden="true">
          {current === 'ascending' ? ' ▲' : current === 'descending' ? ' ▼' : ''}
        </span>
      </button>
    </th>
  );
}

/** Live status changes the table applies in place, keyed by agent id. */
const STATUS_BY_KIND: Record<string, AgentStatus> = {
  'agent.online': 'online',
  'agent.recovered': 'online',
  'agent.degraded': 'degraded',
  'agent.stopped': 'stopped',
  'agent.offline': 'offline',
  'agent.revoked': 'revoked',
};

/**
 * The fleet, one server-side page at a time: filters and the page live in the URL, every
 * change is one `GET /api/v1/agents` call, and live events update the visible rows in place.
 */
export function Agents() {
  const api = useApi();
  const { search } = useLocation();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, search.get(f) ?? ''])) as Filters;
  const offset = Math.max(0, Number(search.get('offset') ?? 0) || 0);
  const key = JSON.stringify({ ...filters, offset });

  const page = useLoader(
    (signal) => api.get<Page<Agent>>('/api/v1/agents', { ...filters, limit: PAGE_SIZE, offset }, signal),
    [key],
  );
  // The platform's agent build, to mark who is behind; the table works without it.
  const versions = useLoader(
    (signal) => api.get<FleetVersions>('/api/v1/fleet/versions', undefined, signal),
    [],
  );
  const behindVersions = new Set(
    (versions.data?.versions ?? []).filter((v) => v.behind).map((v) => v.version),
  );
  const [rows, setRows] = useState<Agent[]>([]);
  const [changed, setChanged] = useState<Record<string, number>>({});
  const [newAgents, setNewAgents] = useState(0);
  useEffect(() => {
    setRows(page.data?.items ?? []);
    setNewAgents(0);
  }, [page.data]);

  useLiveEvents((event) => {
    if (event.kind === 'agent.registered') {
      setNewAgents((n) => n + 1);
      return;
    }
    if (event.kind === 'agent.version_changed' && typeof event.data.version === 'string') {
      const version = event.data.version;
      setRows((current) =>
        current.map((agent) => (agent.id === event.agent_id ? { ...agent, version } : agent)),
      );
      return;
    }
    const status = STATUS_BY_KIND[event.kind];
    if (!status || !event.agent_id) return;
    const lastSeen =
      typeof event.data.last_seen_at === 'number' ? new Date(event.data.last_seen_at).toISOString() : null;
    setRows((current) =>
      current.map((agent) =>
        agent.id === event.agent_id
          ? { ...agent, status, last_seen_at: lastSeen ?? agent.last_seen_at }
          : agent,
      ),
    );
    setChanged((c) => ({ ...c, [event.agent_id!]: Date.now() }));
  });

  const configStatuses = useConfigStatuses(rows.map((agent) => agent.id));
  const [revoking, setRevoking] = useState<Agent | null>(null);
  const [revokeError, setRevokeError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    try {
      await api.delete(`/api/v1/agents/${encodeURIComponent(revoking.id)}`);
      setRows((current) => current.map((a) => (a.id === revoking.id ? { ...a, status: 'revoked' } : a)));
      setRevoking(null);
      setRevokeError(null);
    } catch (error) {
      setRevokeError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="agents-title">
      <div className="page-head">
        <h1 id="agents-title">Agents</h1>
        <BulkRevoke filters={filters} onDone={page.reload} />
        <Link href="/add-agent" className="button primary">
          Add an agent
        </Link>
      </div>
      <FilterBar filters={filters} />
      {newAgents > 0 && (
        <p className="notice" role="status">
          {newAgents} agent{newAgents === 1 ? '' : 's'} enrolled since this page loaded.{' '}
          <button type="button" className="link" onClick={page.reload}>
            Refresh
          </button>
        </p>
      )}
      <ErrorMessage error={page.error} title="Could not load agents." />
      {!page.data && page.loading && <Loading what="agents" />}
      {page.data && (
        <>
          <table className="agents" aria-busy={page.loading}>
            <caption className="visually-hidden">Agents matching the filters</caption>
            <thead>
              <tr>
                {SORTABLE.map(([label, column]) => (
                  <SortHeader key={column} label={label} column={column} filters={filters} />
                ))}
                <th scope="col">Labels</th>
                <th scope="col">Last seen</th>
                <th scope="col">Config</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={10} className="muted">
                    No agents match these filters.
                  </td>
                </tr>
              )}
              {rows.map((agent) => (
                <tr
                  key={agent.id}
                  className={changed[agent.id] ? 'flash' : undefined}
                  data-agent-id={agent.id}
                >
                  <td>
                    <Link href={`/agents/${encodeURIComponent(agent.id)}`}>{agent.hostname || agent.id}</Link>
                  </td>
                  <td>
                    <code className="agent-id" title={agent.id} data-testid="agent-id">
                      {agent.id}
                    </code>
                  </td>
                  <td data-testid="agent-status">
                    <StatusBadge status={agent.status} />
                  </td>
                  <td>{agent.environment}</td>
                  <td>{agent.type}</td>
                  <td data-testid="agent-version">
                    {agent.version}
                    {behindVersions.has(agent.version) && (
                      <span
                        className="version-behind"
                        title={`This platform ships ${versions.data?.current}`}
                      >
                        update available
                      </span>
                    )}
                  </td>
                  <td>
                    {Object.entries(agent.labels ?? {}).map(([k, v]) => (
                      <button
                        type="button"
                        className="label"
                        key={k}
                        title={`Show agents labelled ${k}=${v}`}
                        onClick={() => setSearch({ ...filters, label: `${k}=${v}`, offset: undefined })}
                      >
                        {k}={v}
                      </button>
                    ))}
                  </td>
                  <td>
                    <LastSeen status={agent.status} iso={agent.last_seen_at} />
                  </td>
                  <td>
                    <ConfigStatusBadge status={configStatuses[agent.id]} />
                  </td>
                  <td>
                    {agent.status !== 'revoked' && (
                      <button type="button" className="danger small" onClick={() => setRevoking(agent)}>
                        Revoke<span className="visually-hidden"> {agent.hostname}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pagination
            label="Agents"
            total={page.data.total}
            limit={PAGE_SIZE}
            offset={offset}
            onChange={(next) => setSearch({ ...filters, offset: next || undefined })}
          />
        </>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this agent?"
        confirmLabel="Revoke agent"
        busy={busy}
        onConfirm={revoke}
        onCancel={() => {
          setRevoking(null);
          setRevokeError(null);
        }}
      >
        <p>
          <strong>{revoking?.hostname}</strong> ({revoking?.id}) loses its credential: its next heartbeat or
          metrics are refused. No other agent is affected. This cannot be undone; the host must enroll again.
        </p>
        <ErrorMessage error={revokeError} />
      </ConfirmDialog>
    </section>
  );
}

function FilterBar({ filters }: { filters: Filters }) {
  const types = useAgentTypes();
  const environments = useEnvironmentNames();
  const [text, setText] = useState({ label: filters.label, search: filters.search });
  useEffect(() => setText({ label: filters.label, search: filters.search }), [filters.label, filters.search]);

  // Typing waits for a pause before asking the server; selects apply at once.
  useEffect(() => {
    if (text.label === filters.label && text.search === filters.search) return;
    const timer = window.setTimeout(() => setSearch({ ...filters, ...text }), 300);
    return () => window.clearTimeout(timer);
  }, [text]);

  const set = (name: keyof Filters, value: string) => setSearch({ ...filters, [name]: value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSearch({ ...filters, ...text });
  };

  return (
    <form className="filters" role="search" aria-label="Filter agents" onSubmit={submit}>
      <label>
        Environment
        <select value={filters.environment} onChange={(e) => set('environment', e.target.value)}>
          <option value="">All</option>
          {(environments.data ?? []).map((name) => (
            <option key={name}>{name}</option>
          ))}
          {filters.environment && !(environments.data ?? []).includes(filters.environment) && (
            <option>{filters.environment}</option>
          )}
        </select>
      </label>
      <label>
        Status
        <select value={filters.status} onChange={(e) => set('status', e.target.value)}>
          <option value="">All</option>
          {AGENT_STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Type
        <select value={filters.type} onChange={(e) => set('type', e.target.value)}>
          <option value="">All</option>
          {(types.data ?? []).map((t) => (
            <option key={t.type} value={t.type}>
              {t.display_name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Label
        <input
          type="text"
          placeholder="key=value"
          value={text.label}
          onChange={(e) => setText({ ...text, label: e.target.value })}
        />
      </label>
      <label>
        Hostname or id
        <input
          type="search"
          placeholder="contains…"
          value={text.search}
          onChange={(e) => setText({ ...text, search: e.target.value })}
        />
      </label>
      {FILTERS.some((f) => f !== 'sort' && filters[f]) && (
        <button type="button" className="link" onClick={() => setSearch({ sort: filters.sort || undefined })}>
          Clear filters
        </button>
      )}
    </form>
  );
}
