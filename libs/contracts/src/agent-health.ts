import type { SourceHealth } from './agent-messages';

/**
 * What ingestion concludes from an agent's heartbeats beyond "it is alive": why it is degraded and
 * how each of its parts is doing. Shown by the API (agent record) and carried by `agent.degraded`.
 */

/** Why an agent is degraded. */
export const HealthReasonKinds = [
  'collector_errors',
  'buffer_filling',
  'samples_dropped',
  'clock_skew',
] as const;
export type HealthReasonKind = (typeof HealthReasonKinds)[number];

export interface HealthReason {
  kind: HealthReasonKind;
  /** The part concerned: `collector:<name>`, `buffer`, `delivery`, `clock`. */
  component: string;
  /** One line for people, e.g. "docker: connect ENOENT /var/run/docker.sock". */
  message: string;
}

/** One part of an agent as its last heartbeat shows it. */
export interface ComponentHealth {
  component: string;
  ok: boolean;
  /** What was measured (`buffer 85% full`, `clock 2 s ahead`) or the error. */
  detail: string;
}

/** The health part of an agent's record, from its last heartbeat. */
export interface AgentHealth {
  /** Empty when the agent is healthy. */
  reasons: HealthReason[];
  components: ComponentHealth[];
  /** Its application-metrics sources (scrape targets, plugins) as its last heartbeat reported them. */
  sources?: SourceHealth[];
  /** The version the agent's last heartbeat reported. */
  version: string | null;
  /** ms since epoch, the platform's clock, of that heartbeat. */
  reportedAt: number | null;
}
