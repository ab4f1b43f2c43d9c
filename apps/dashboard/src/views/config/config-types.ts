/** Remote configuration as the API shows it (snake_case; see GET /api/v1/agents/:id/config). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export interface ConfigSettings {
  log_level?: (typeof LOG_LEVELS)[number];
  heartbeat_interval_seconds?: number;
  collect_interval_seconds?: number;
  collectors?: string[];
  labels?: Record<string, string>;
  /** Sections (scrape_targets, exec_plugins, statsd) as the agent's own JSON; docs/agent.md. */
  app_metrics?: Record<string, unknown>;
}

export interface ConfigVersion {
  version: number;
  environment: string;
  agent_id: string | null;
  settings: ConfigSettings | null;
  actor: string;
  created_at: string;
}

export interface EnvironmentConfig {
  environment: string;
  current: ConfigVersion | null;
  history: ConfigVersion[];
}

export interface ConfigStatus {
  state: 'none' | 'pending' | 'applied' | 'failed';
  desired_version: number;
  applied_version: number | null;
  failed_version: number | null;
  error: string | null;
  reported_at: string | null;
}

export interface AgentConfig {
  agent_id: string;
  environment: string;
  effective: { version: number; settings: ConfigSettings };
  environment_config: ConfigVersion | null;
  override: ConfigVersion | null;
  status: ConfigStatus;
}

/** "applied v7", "pending v8", "failed: unknown collector gpu", or "—" when nothing is configured. */
export function describeConfigStatus(status: ConfigStatus | undefined): string {
  if (!status || status.state === 'none') return '—';
  if (status.state === 'applied') return `applied v${status.applied_version}`;
  if (status.state === 'failed') return `failed: ${status.error ?? 'rejected'}`;
  return `pending v${status.desired_version}`;
}

/** The form's text fields → a settings body; blank fields are left out (the agent keeps its own value). */
export interface ConfigFormFields {
  log_level: string;
  heartbeat_interval_seconds: string;
  collect_interval_seconds: string;
  collectors: string;
  labels: string;
  /** JSON object of app-metrics sections; blank: none set. */
  app_metrics: string;
}

export function settingsFromForm(fields: ConfigFormFields): ConfigSettings {
  const body: ConfigSettings = {};
  if (fields.log_level) body.log_level = fields.log_level as ConfigSettings['log_level'];
  if (fields.heartbeat_interval_seconds.trim())
    body.heartbeat_interval_seconds = Number(fields.heartbeat_interval_seconds);
  if (fields.collect_interval_seconds.trim())
    body.collect_interval_seconds = Number(fields.collect_interval_seconds);
  const collectors = fields.collectors
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (collectors.length) body.collectors = collectors;
  const labels = fields.labels
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]);
  if (labels.length) body.labels = Object.fromEntries(labels);
  if (fields.app_metrics.trim()) {
    let sections: unknown;
    try {
      sections = JSON.parse(fields.app_metrics);
    } catch (error) {
      throw new Error(`Application metrics: not valid JSON (${(error as Error).message})`);
    }
    // The server checks the sections and names each bad field; only the shape is checked here.
    body.app_metrics = sections as Record<string, unknown>;
  }
  return body;
}

export function formFromSettings(settings: ConfigSettings | null | undefined): ConfigFormFields {
  return {
    log_level: settings?.log_level ?? '',
    heartbeat_interval_seconds: settings?.heartbeat_interval_seconds?.toString() ?? '',
    collect_interval_seconds: settings?.collect_interval_seconds?.toString() ?? '',
    collectors: (settings?.collectors ?? []).join(', '),
    labels: Object.entries(settings?.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
    // Shown as saved, so saving the form again keeps the sections set through the API.
    app_metrics: settings?.app_metrics ? JSON.stringify(settings.app_metrics, null, 2) : '',
  };
}
