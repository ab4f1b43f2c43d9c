import { Generated } from 'kysely';
import { EventOutboxTables } from '@app/outbox';

/** Row types of the ingestion service's tables (timestamps: ms since epoch). */

export type AgentStatus = 'unknown' | 'online' | 'degraded' | 'offline' | 'stopped';

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
  /** What the newest heartbeat said: `ok`, `degraded` or `stopping` (ReportedState); null before 0003. */
  reported_state: string | null;
  /** JSON `{ reasons, components, sources? }` of the newest heartbeat (AgentHealth without version). */
  health: string | null;
  /** Version in the newest heartbeat. */
  version: string | null;
  /** Version last announced with `agent.version_changed`: the compare-and-set's old value. */
  announced_version: string | null;
}

/** One row per stored metrics batch: the unique key that makes storage exactly-once. */
export interface MetricBatchRow {
  agent_id: string;
  seq: number;
  stored_at: number;
}

/** One series of one agent: chunks and rollups name series by this id instead of repeating name and tags. */
export interface MetricSeriesRow {
  series_id: Generated<number>;
  agent_id: string;
  name: string;
  /** Canonical JSON of the tag set. */
  tags: string;
  /** The unit of the series' first sample. */
  unit: string | null;
}

/**
 * Samples of one agent within one hour, encoded (chunk-codec.ts). A write stores one chunk per agent
 * and hour of the batches it commits (`compacted` 0); the compaction job merges an hour's chunks
 * into one (`compacted` 1) once the hour is over.
 */
export interface MetricChunkRow {
  chunk_id: Generated<number>;
  agent_id: string;
  hour_start: number;
  sample_count: number;
  compacted: number;
  data: Buffer;
}

/**
 * Aggregates of one agent's series of one metric (every tag set) over one window: 1-minute buckets of
 * an hour, 1-hour buckets of a day.
 */
export interface MetricRollupRow {
  agent_id: string;
  name: string;
  /** Bucket width in ms: 60,000 or 3,600,000. */
  step_ms: number;
  window_start: number;
  data: Buffer;
}

/** A sample as the writer hands it to the repository (and as the pre-0005 `samples` table held it). */
export interface SampleRow {
  agent_id: string;
  name: string;
  /** Canonical JSON (sorted keys), so equal tag sets compare equal as text. */
  tags: string;
  ts: number;
  value: number;
  unit: string | null;
}

/**
 * How far AGENT_METRICS has been checked against metric_batches (see MetricsAudit), and the lease that
 * lets one instance at a time do it.
 */
export interface MetricsAuditRow {
  id: string;
  audited_seq: number;
  lease_owner: string;
  lease_until: number;
}

export interface IngestionDB extends EventOutboxTables {
  agents: AgentRow;
  metric_batches: MetricBatchRow;
  metric_series: MetricSeriesRow;
  metric_chunks: MetricChunkRow;
  metric_rollups: MetricRollupRow;
  metrics_audit: MetricsAuditRow;
}
