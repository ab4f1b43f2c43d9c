/**
 * The HTTP API's JSON, as the gateway sends it (snake_case). These mirror the wire types in
 * libs/contracts (AgentRecord, AgentTypeInfo, ProvisionResult, …); the dashboard is a separate
 * browser bundle, so it restates their HTTP form here rather than importing server code.
 */
export type AgentStatus = 'pending' | 'online' | 'degraded' | 'offline' | 'stopped' | 'revoked';
export const AGENT_STATUSES: AgentStatus[] = [
  'online',
  'degraded',
  'offline',
  'stopped',
  'pending',
  'revoked',
];

/** Same rule as ENVIRONMENT_NAME_PATTERN in libs/contracts/src/subjects.ts. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface Environment {
  id: string;
  name: string;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Agent {
  id: string;
  organization_id: string;
  environment: string;
  type: string;
  hostname: string;
  host_id: string;
  os: string;
  version: string;
  status: AgentStatus;
  labels: Record<string, string>;
  first_seen_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
  /** From its last heartbeat; null until the first (AgentHealth in libs/contracts). */
  health?: AgentHealth | null;
}

export interface HealthReason {
  kind: 'collector_errors' | 'buffer_filling' | 'samples_dropped' | 'clock_skew';
  component: string;
  message: string;
}

/** An application-metrics source (scrape target, plugin, StatsD) as the agent's last heartbeat reported it. */
export interface SourceHealth {
  name: string;
  up: boolean;
  last_error?: string;
  last_duration_ms: number;
  series: number;
  last_run_at: number;
}

export interface AgentHealth {
  reasons: HealthReason[];
  components: { component: string; ok: boolean; detail: string }[];
  sources?: SourceHealth[];
  version: string | null;
  reported_at: number | null;
}

/** `GET /api/v1/agents/:id/metrics` without `name`. */
export interface MetricsCatalog {
  agent_id: string;
  since: number;
  metrics: { name: string; unit: string | null; tags: Record<string, string[]>; last_sample_at: number }[];
  truncated: boolean;
}

/** `GET /api/v1/fleet/versions` (the parts the dashboard reads). */
export interface FleetVersions {
  current: string;
  versions: { version: string; type: string; count: number; behind: boolean }[];
  behind: { count: number };
}

export interface ConfigField {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'enum';
  description: string;
  required: boolean;
  default?: string | number | boolean;
  enum?: string[];
  pattern?: string;
  /** The pattern in the server's words: "must be <this>". */
  pattern_description?: string;
  minimum?: number;
  maximum?: number;
}

export interface DeclaredMetric {
  name: string;
  unit: string;
  description: string;
  /** Always 1, its tags are the facts: never offered as a chart. */
  info?: boolean;
}

export interface AgentType {
  type: string;
  display_name: string;
  description: string;
  platforms: string[];
  config: ConfigField[];
  metrics: DeclaredMetric[];
}

export interface DeploymentCommand {
  platform: string;
  shell: string;
  command: string;
}

export interface ProvisionResult {
  agent_type: string;
  environment: string;
  command: string;
  commands: DeploymentCommand[];
  instructions: string[];
  /** What may stop the command from working where it runs (loopback URLs from a container or pod). */
  warnings?: string[];
  enrollment_token: string;
  token_id: string;
  expires_at: string | null;
  config: Record<string, unknown>;
}

export interface MetricPoint {
  ts: number;
  avg: number;
  min: number;
  max: number;
  last: number;
  count: number;
}

export interface MetricSeries {
  tags: Record<string, string>;
  unit: string | null;
  points: MetricPoint[];
}

export interface MetricsQueryResult {
  agent_id: string;
  name: string;
  from: number;
  to: number;
  step_seconds: number;
  series: MetricSeries[];
  /** Newest stored sample of this metric (ms since epoch), whatever the range; null: none yet. */
  newest_sample_at: number | null;
  /** The newest sample is older than the agent's offline threshold: recent data may be missing. */
  stale: boolean;
}

export interface TokenMetadata {
  id: string;
  kind: string;
  environment: string | null;
  name: string | null;
  hint: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  max_uses: number | null;
  uses: number;
  last_used_at: string | null;
  grace_until: string | null;
  replaced_by: string | null;
}

export interface IssuedToken extends TokenMetadata {
  secret: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  /** As recorded: `api_key:<id>`, `enrollment:<token id>`. */
  actor: string;
  actor_kind?: 'api_key' | 'enrollment_token' | 'other';
  /** The API key's or enrollment token's name (its hint when unnamed); null when it is gone. */
  actor_name?: string | null;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
}

export interface IngestionStats {
  agents_online: number;
  agents_tracked: number;
  heartbeats_accepted: number;
  metrics_batches_stored: number;
  samples_stored: number;
  rejected_by_reason: Record<string, number>;
  dead_lettered: number;
  consumer_lag: number;
}

export interface FleetSummary {
  total: number;
  by_status: Record<AgentStatus, number>;
  by_type: { type: string; display_name: string; count: number }[];
  by_environment: { environment: string; count: number }[];
  environments_truncated: boolean;
  recently_offline: {
    window_ms: number;
    truncated: boolean;
    agents: {
      agent_id: string;
      hostname?: string | null;
      environment: string | null;
      at: string;
      silent_for_ms: number | null;
    }[];
  } | null;
  ingestion: IngestionStats | null;
  ingestion_error: string | null;
}

/** One EVENTS fact as the live stream sends it. */
export interface LiveEvent {
  id: string;
  kind: string;
  occurred_at: string;
  organization_id: string;
  environment?: string | null;
  agent_id?: string | null;
  data: Record<string, unknown>;
}

export interface FieldError {
  field: string;
  reason: string;
}
