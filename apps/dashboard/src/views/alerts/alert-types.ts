/** The alerting API's JSON (snake_case forms of Alert, AlertRule, AlertChannel in libs/contracts/src/alerts.ts). */
export interface AlertItem {
  id: string;
  rule_id: string;
  rule_name: string;
  kind: string;
  state: 'pending' | 'firing' | 'resolved' | 'cancelled';
  agent_id: string | null;
  /** The agent's hostname from the registry (null when it is gone). */
  agent_hostname?: string | null;
  environment: string | null;
  summary: string;
  opened_at: string;
  fired_at: string | null;
  resolved_at: string | null;
  acknowledged_at?: string | null;
  acknowledged_by?: string | null;
}
export interface DeliveryItem {
  id: string;
  alert_id: string;
  transition: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
}
export interface TestResult {
  delivered: boolean;
  status_code: number | null;
  error: string | null;
}
export const RULE_KINDS = [
  'agent_offline',
  'agent_revoked',
  'agent_degraded',
  'agent_stopped',
  'enrollment_failures',
] as const;
export const CHANNEL_TYPES = ['webhook', 'slack'] as const;

export interface AlertRule {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  environment: string | null;
  agent_type: string | null;
  label: string | null;
  offline_seconds: number | null;
  threshold: number | null;
  window_seconds: number | null;
  channel_ids: string[];
}
/** As listed: `url` is masked (a Slack URL is itself a credential), the secret is never shown again. */
export interface AlertChannel {
  id: string;
  name: string;
  type: string;
  url: string;
  secret_hint: string;
}
export interface CreatedAlertChannel extends AlertChannel {
  secret: string;
}
export type Listing<T> = T[] | { items: T[]; total?: number };
