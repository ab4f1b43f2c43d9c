import { AlertChannelType, AlertRuleKind, AlertState, AlertTransition, DeliveryStatus } from '@app/contracts';

/** Row types of the alerting service's tables (timestamps: ms since epoch). */
export interface AlertRuleRow {
  id: string;
  organization_id: string;
  name: string;
  kind: AlertRuleKind;
  /** 0/1: one representation on both engines. */
  enabled: number;
  environment: string | null;
  agent_type: string | null;
  label: string | null;
  offline_seconds: number | null;
  threshold: number | null;
  window_seconds: number | null;
  /** JSON array of channel ids. */
  channel_ids: string;
  created_at: number;
  updated_at: number;
}

export interface ChannelRow {
  id: string;
  organization_id: string;
  name: string;
  type: AlertChannelType;
  url: string;
  /** Kept in clear: signing needs it. Never returned after creation. */
  secret: string;
  created_at: number;
}

export interface AlertRow {
  id: string;
  organization_id: string;
  rule_id: string;
  rule_name: string;
  kind: AlertRuleKind;
  state: AlertState;
  agent_id: string | null;
  environment: string | null;
  summary: string;
  /** The event that opened it; unique per rule, so a redelivered event opens nothing new. */
  event_id: string;
  opened_at: number;
  /** pending alerts fire at this instant unless the condition clears first. */
  due_at: number;
  fired_at: number | null;
  resolved_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

/** Latest online/offline instants per agent, so events processed out of order still decide correctly. */
export interface AgentPresenceRow {
  organization_id: string;
  agent_id: string;
  last_online_at: number;
  last_offline_at: number;
}

/** One counted event of a rate rule (enrollment failures). */
export interface RuleHitRow {
  rule_id: string;
  event_id: string;
  at: number;
}

export interface DeliveryRow {
  id: string;
  organization_id: string;
  alert_id: string;
  channel_id: string;
  transition: AlertTransition;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

/** The delivery log: one row per HTTP attempt. */
export interface DeliveryAttemptRow {
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface AlertingDB {
  alert_rules: AlertRuleRow;
  channels: ChannelRow;
  alerts: AlertRow;
  agent_presence: AgentPresenceRow;
  rule_hits: RuleHitRow;
  deliveries: DeliveryRow;
  delivery_attempts: DeliveryAttemptRow;
}
