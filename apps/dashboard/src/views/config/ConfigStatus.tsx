import { useApi, useLoader } from '../../api/context';
import { ErrorMessage, Loading } from '../../components/common';
import { Link } from '../../router';
import { AgentConfig, ConfigStatus, describeConfigStatus } from './config-types';

/** An agent's config state as a badge: "applied v7", "pending v8", "failed: reason". */
export function ConfigStatusBadge({ status }: { status: ConfigStatus | undefined }) {
  if (!status || status.state === 'none') return <span className="muted">—</span>;
  const badge = status.state === 'applied' ? 'online' : status.state === 'failed' ? 'offline' : 'pending';
  return (
    <span className={`badge badge-${badge}`} data-testid="config-status" title={status.error ?? undefined}>
      {describeConfigStatus(status)}
    </span>
  );
}

/** The config state of a page of agents, in one request. */
export function useConfigStatuses(agentIds: string[]): Record<string, ConfigStatus> {
  const api = useApi();
  const ids = agentIds.join(',');
  const loaded = useLoader(
    (signal) =>
      ids
        ? api.get<{ statuses: Record<string, ConfigStatus> }>(
            '/api/v1/config-status',
            { agent_ids: ids },
            signal,
          )
        : Promise.resolve({ statuses: {} }),
    [ids],
  );
  return loaded.data?.statuses ?? {};
}

/** The agent detail's configuration panel: its status and the settings it should run. */
export function AgentConfigPanel({ agentId }: { agentId: string }) {
  const api = useApi();
  const config = useLoader(
    (signal) =>
      api.get<AgentConfig>(`/api/v1/agents/${encodeURIComponent(agentId)}/config`, undefined, signal),
    [agentId],
  );
  const c = config.data;
  return (
    <section className="panel" aria-labelledby="config-title">
      <h2 id="config-title">Configuration</h2>
      {!c && config.loading && <Loading what="configuration" />}
      <ErrorMessage error={config.error} />
      {c && (
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <ConfigStatusBadge status={c.status} />
            {c.status.state === 'failed' && c.status.applied_version !== null && (
              <span className="muted"> (running v{c.status.applied_version})</span>
            )}
          </dd>
          <dt>Effective settings</dt>
          <dd>
            {c.effective.version === 0 ? (
              <span className="muted">its own start-up settings</span>
            ) : (
              <code data-testid="effective-config">{JSON.stringify(c.effective.settings)}</code>
            )}
          </dd>
          <dt>Source</dt>
          <dd>
            <Link href={`/config?environment=${encodeURIComponent(c.environment)}`}>
              environment {c.environment}
              {c.environment_config ? ` v${c.environment_config.version}` : ''}
            </Link>
            {c.override && <span> + override v{c.override.version}</span>}
          </dd>
        </dl>
      )}
    </section>
  );
}
