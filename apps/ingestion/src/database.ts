import { EventOutboxTables } from '@app/outbox';

/** Row types of the ingestion service's tables (timestamps: ms since epoch). */

export type AgentStatus = 'unknown' | 'online' | 'offline';

/** One row per agent ingestion has seen a verified message from; shared by every instance. */
export interface AgentRow {
  agent_id: string;
  organization_id: string;
  environment: string;
  /** The agent's own heartbeat interval (from its heartbeats), used for the offline threshold. */
  interval_seconds: number;
  last_seen_at: number | null;
  status: AgentStatus;
  status_changed_at: number | null;
  first_seen_at: number;
}

/** One row per stored metrics batch: the unique key that makes storage exactly-once. */
export interface MetricBatchRow {
  agent_id: string;
  seq: number;
  stored_at: number;
}

export interface SampleRow {
  agent_id: string;
  name: string;
  /** Canonical JSON (sorted keys), so equal tag sets compare equal as text. */
  tags: string;
  ts: number;
  value: number;
  unit: string | null;
}

export interface IngestionDB extends EventOutboxTables {
  agents: AgentRow;
  metric_batches: MetricBatchRow;
  samples: SampleRow;
}
