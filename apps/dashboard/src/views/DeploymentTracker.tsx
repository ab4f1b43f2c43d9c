import { useEffect, useState } from 'react';
import { useApi, useInterval } from '../api/context';
import { useLiveEvents } from '../api/live';
import type { Agent, AgentType, MetricsQueryResult, Page } from '../api/types';
import { Link } from '../router';

/** How long before the wizard says what to check (it keeps waiting afterwards). */
export const PATIENCE_MS = 3 * 60_000;
/** Fallback polling, for when the live stream missed the moment (connected late, reconnecting). */
const POLL_MS = 5000;
/** Clocks of browser and server differ a little; an agent enrolled "just before" still counts. */
const CLOCK_SKEW_MS = 30_000;

interface Found {
  id: string;
  hostname: string;
}

/** Agent of this environment and type that enrolled (or re-enrolled) after the command was created. */
function enrolledSince(agents: Agent[], since: number): Agent | undefined {
  const after = (iso: string | null) => iso !== null && new Date(iso).getTime() >= since - CLOCK_SKEW_MS;
  return agents.find((a) => a.status !== 'revoked' && (after(a.first_seen_at) || after(a.last_seen_at)));
}

/**
 * Deployment status tracking: "agent connected" when the new agent's first heartbeat makes it
 * online (live `agent.online`, or the agents list as a fallback), then "data received" when the
 * metrics query returns its first points. If nothing arrives in a few minutes it says what to check.
 */
export function DeploymentTracker({
  type,
  environment,
  since,
}: {
  type: AgentType;
  environment: string;
  since: number;
}) {
  const api = useApi();
  const [agent, setAgent] = useState<Found | null>(null);
  const [connected, setConnected] = useState(false);
  const [connectedAt, setConnectedAt] = useState<number | null>(null);
  const [dataReceived, setDataReceived] = useState(false);
  const [now, setNow] = useState(Date.now());
  const probes = type.metrics.slice(0, 2).map((m) => m.name);

  useEffect(() => {
    if (connected && connectedAt === null) setConnectedAt(Date.now());
  }, [connected, connectedAt]);

  useLiveEvents((event) => {
    if (event.environment !== environment || !event.agent_id) return;
    if (
      event.kind === 'agent.registered' &&
      (event.data.agent_type === undefined || event.data.agent_type === type.type)
    ) {
      setAgent({ id: event.agent_id, hostname: String(event.data.hostname ?? event.agent_id) });
    }
    if (event.kind === 'agent.online' && (!agent || agent.id === event.agent_id)) {
      setAgent((current) => current ?? { id: event.agent_id!, hostname: event.agent_id! });
      setConnected(true);
    }
  });

  useInterval(
    () => {
      setNow(Date.now());
      void (async () => {
        if (!connected) {
          const page = await api.get<Page<Agent>>('/api/v1/agents', {
            environment,
            type: type.type,
            limit: 20,
          });
          const found = agent ? page.items.find((a) => a.id === agent.id) : enrolledSince(page.items, since);
          if (found) {
            setAgent({ id: found.id, hostname: found.hostname });
            if (found.status === 'online') setConnected(true);
          }
          return;
        }
        if (agent && !dataReceived) {
          const to = Date.now();
          for (const name of probes) {
            const result = await api.get<MetricsQueryResult>(
              `/api/v1/agents/${encodeURIComponent(agent.id)}/metrics`,
              {
                name,
                from: since - CLOCK_SKEW_MS,
                to,
                step: 60,
              },
            );
            if (result.series.some((s) => s.points.length > 0)) {
              setDataReceived(true);
              return;
            }
          }
        }
      })().catch((error: unknown) => console.warn('deployment tracking:', error));
    },
    dataReceived ? null : POLL_MS,
  );

  const waitingTooLong = !connected && now - since > PATIENCE_MS;
  const noDataTooLong = connected && !dataReceived && connectedAt !== null && now - connectedAt > PATIENCE_MS;

  return (
    <section className="panel" aria-labelledby="tracker-title">
      <h2 id="tracker-title">
        {connected && dataReceived ? 'Your agent is connected' : 'Waiting for your agent'}
      </h2>
      <ol className="checklist" aria-live="polite">
        <li className={connected ? 'done' : 'pending'} data-testid="step-connected">
          {connected ? (
            <>
              ✓ Agent connected:{' '}
              <Link href={`/agents/${encodeURIComponent(agent!.id)}`}>{agent!.hostname}</Link>
            </>
          ) : agent ? (
            <>… {agent.hostname} enrolled; waiting for its first heartbeat</>
          ) : (
            <>… Waiting for the agent to connect (run the command above)</>
          )}
        </li>
        <li className={dataReceived ? 'done' : 'pending'} data-testid="step-data">
          {dataReceived ? (
            <>✓ Data received: the first metrics are stored</>
          ) : (
            <>… Waiting for the first metrics</>
          )}
        </li>
      </ol>
      {waitingTooLong && (
        <div className="notice" role="status">
          <p>
            <strong>Nothing has connected after {PATIENCE_MS / 60_000} minutes.</strong> Check:
          </p>
          <ul>
            <li>
              the command ran without errors (for a service: its logs, e.g.{' '}
              <code>journalctl -u rca-agent</code>, <code>docker logs rca-agent</code>,{' '}
              <code>kubectl logs</code>);
            </li>
            <li>
              the host can reach the platform's NATS and HTTP addresses in the command (firewall, proxy, DNS);
            </li>
            <li>the enrollment token is not expired, revoked or used up (Tokens page);</li>
            <li>
              the environment is <code>{environment}</code> and the agent type is {type.display_name}.
            </li>
          </ul>
        </div>
      )}
      {noDataTooLong && (
        <div className="notice" role="status">
          <p>
            <strong>The agent is online but no metrics arrived after {PATIENCE_MS / 60_000} minutes.</strong>{' '}
            Check the agent's logs for collector errors (permissions to read Docker or the Kubernetes API) and
            the ingestion health on the overview (rejected messages, consumer lag).
          </p>
        </div>
      )}
    </section>
  );
}
