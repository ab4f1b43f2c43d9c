import { EventOutboxTables } from '@app/outbox';

import { AgentStatus } from '@app/contracts';

/** Row types of the provisioning service's tables (timestamps: ms since epoch). */
export interface EnvironmentRow {
  id: string;
  organization_id: string;
  name: string;
  created_at: number;
}

export interface AgentRow {
  id: string;
  organization_id: string;
  environment: string;
  type: string;
  hostname: string;
  host_id: string;
  os: string;
  version: string;
  status: AgentStatus;
  /** JSON object of string → string, as sent at enrollment. */
  labels: string;
  /** The agent's current identity (its key on record in the token service, `ai_…`). */
  identity_id: string | null;
  /** The enrollment token that registered (or last re-enrolled) this agent. */
  enrollment_token_id: string;
  first_seen_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
  /** Set on a revoked agent whose host may enroll once more (as a new agent); cleared when it does. */
  reenroll_allowed_at?: number | null;
}

/** One row per label, so `label=key=value` filters are an exact indexed match on both engines. */
export interface AgentLabelRow {
  agent_id: string;
  organization_id: string;
  key: string;
  value: string;
}

export interface AuditRow {
  id: string;
  organization_id: string;
  at: number;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  /** JSON object. */
  details: string;
}

/** One row per organisation that changed a fleet setting; no row = every setting at its default. */
export interface FleetSettingsRow {
  organization_id: string;
  inactive_agent_cleanup_days: number | null;
  updated_at: number;
}

/** The last version number given out in an environment (configs and overrides share it). */
export interface ConfigSequenceRow {
  organization_id: string;
  environment: string;
  last_version: number;
}

/** One saved configuration, never updated: the environment's (`agent_id` null) or an agent's override. */
export interface ConfigVersionRow {
  organization_id: string;
  environment: string;
  version: number;
  agent_id: string | null;
  /** JSON AgentConfigSettings; null when an override was removed. */
  settings: string | null;
  actor: string;
  created_at: number;
}

/** What an agent last reported: the version it runs and the last one it rejected. */
export interface AgentConfigStatusRow {
  agent_id: string;
  organization_id: string;
  applied_version: number | null;
  failed_version: number | null;
  error: string | null;
  reported_at: number;
}

export interface ProvisioningDB extends EventOutboxTables {
  fleet_settings: FleetSettingsRow;
  environments: EnvironmentRow;
  agents: AgentRow;
  agent_labels: AgentLabelRow;
  audit_log: AuditRow;
  config_sequences: ConfigSequenceRow;
  config_versions: ConfigVersionRow;
  agent_config_status: AgentConfigStatusRow;
}
