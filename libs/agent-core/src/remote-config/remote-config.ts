import { Logger } from 'pino';
import {
  AgentConfigDocument,
  AgentConfigLogLevel,
  AgentConfigSettings,
  DomainError,
  labelProblems,
  MAX_TAGS_PER_SAMPLE,
  MetricSample,
  validateDto,
} from '@app/contracts';
import { parseAppMetrics, ParsedAppMetrics } from '../app-metrics/app-metrics-sections';
import { PluginConfigError } from '../app-metrics/plugin-config';

/** What remote configuration changes in a running agent. */
export interface RuntimeSettings {
  logLevel: AgentConfigLogLevel;
  heartbeatIntervalSeconds: number;
  collectIntervalSeconds: number;
  /** Collectors to run by name; null: all of the type's. */
  collectors: string[] | null;
  /** Added as tags to every sample (a sample's own tags win). */
  labels: Record<string, string>;
  /** Application-metrics sections the config sets, validated; each replaces the agent's own section. */
  appMetrics: ParsedAppMetrics;
}

/**
 * The settings an agent runs with `document`: its start-up values (`baseline`) with the document's fields
 * over them, so a field removed from the config returns to the start-up value. Throws an Error saying
 * why when the document is not one this agent can run (invalid, an unknown collector, out of range).
 */
export function resolveRuntimeSettings(
  document: AgentConfigDocument,
  baseline: RuntimeSettings,
  availableCollectors: string[],
): RuntimeSettings {
  let settings: AgentConfigSettings;
  try {
    // Checked again here: the agent does not trust that the platform's validation matches its own.
    settings = validateDto(AgentConfigSettings, document.settings ?? {});
  } catch (error) {
    throw new Error(error instanceof DomainError ? `invalid config: ${error.message}` : String(error));
  }
  const labels = labelProblems(settings.labels);
  if (labels.length)
    throw new Error(`invalid config: ${labels.map((p) => `${p.field}: ${p.reason}`).join('; ')}`);
  const unknown = (settings.collectors ?? []).filter((name) => !availableCollectors.includes(name));
  if (unknown.length)
    throw new Error(
      `unknown collector${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this agent has ${availableCollectors.join(', ')}`,
    );
  let appMetrics: ParsedAppMetrics;
  try {
    appMetrics = parseAppMetrics(settings.appMetrics);
  } catch (error) {
    if (!(error instanceof PluginConfigError)) throw error;
    throw new Error(`invalid config: ${error.errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`);
  }
  return {
    logLevel: settings.logLevel ?? baseline.logLevel,
    heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds ?? baseline.heartbeatIntervalSeconds,
    collectIntervalSeconds: settings.collectIntervalSeconds ?? baseline.collectIntervalSeconds,
    collectors: settings.collectors ?? baseline.collectors,
    labels: { ...baseline.labels, ...(settings.labels ?? {}) },
    appMetrics: { ...baseline.appMetrics, ...appMetrics },
  };
}

/** Configured labels as sample tags, within the per-sample tag limit; the sample's own tags win. */
export function withLabels(samples: MetricSample[], labels: Record<string, string>): MetricSample[] {
  const entries = Object.entries(labels);
  if (entries.length === 0) return samples;
  return samples.map((sample) => {
    const tags = { ...(sample.tags ?? {}) };
    for (const [key, value] of entries) {
      if (Object.keys(tags).length >= MAX_TAGS_PER_SAMPLE) break;
      if (!(key in tags)) tags[key] = value;
    }
    return { ...sample, tags };
  });
}

/** How the agent talks to the platform about its configuration (NATS only for now). */
export interface ConfigChannel {
  fetchConfig(): Promise<AgentConfigDocument>;
  ackConfig(ack: { version: number; applied: boolean; error?: string }): Promise<void>;
}

/**
 * Keeps a running agent on its platform configuration: fetches it at start and after every reconnect
 * (a push sent while the agent was away is not replayed), applies pushed ones, acknowledges every
 * outcome. A rejected config leaves the agent on the last good one.
 */
export class RemoteConfigSync {
  /** The version running now (0: start-up settings only). */
  version = 0;
  private rejected?: { version: number; error: string };

  constructor(
    private readonly channel: ConfigChannel,
    private readonly log: Logger,
    private readonly resolve: (document: AgentConfigDocument) => RuntimeSettings,
    private readonly apply: (settings: RuntimeSettings) => void,
    private readonly onApplied: (document: AgentConfigDocument) => void = () => undefined,
  ) {}

  /** The config applied before a restart, running again before the platform is asked (no ack: nothing changed). */
  restore(document: AgentConfigDocument): void {
    try {
      this.apply(this.resolve(document));
      this.version = document.version;
      this.log.info({ version: document.version }, 'running the configuration applied before the restart');
    } catch (error) {
      this.log.warn({ err: error, version: document.version }, 'the saved configuration no longer applies');
    }
  }

  /** Asks for the current config; a failure is logged and left to the next reconnect or push. */
  async fetch(): Promise<void> {
    let document: AgentConfigDocument;
    try {
      document = await this.channel.fetchConfig();
    } catch (error) {
      this.log.warn({ err: error }, 'could not fetch the configuration; keeping the current one');
      return;
    }
    await this.receive(document);
  }

  /** A config fetched or pushed: older than the running one is ignored; the same one is acknowledged again. */
  async receive(document: AgentConfigDocument): Promise<void> {
    if (document.version === 0 || document.version < this.version) return;
    if (document.version === this.version) return this.ack({ version: this.version, applied: true });
    if (this.rejected?.version === document.version)
      return this.ack({ version: document.version, applied: false, error: this.rejected.error });
    let settings: RuntimeSettings;
    try {
      settings = this.resolve(document);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.rejected = { version: document.version, error: reason };
      this.log.error(
        { version: document.version, runningVersion: this.version, reason },
        'rejected a configuration; keeping the last good one',
      );
      return this.ack({ version: document.version, applied: false, error: reason });
    }
    this.apply(settings);
    this.version = document.version;
    this.onApplied(document);
    this.log.info({ version: document.version, settings }, 'applied configuration');
    await this.ack({ version: document.version, applied: true });
  }

  private async ack(ack: { version: number; applied: boolean; error?: string }): Promise<void> {
    try {
      await this.channel.ackConfig(ack);
    } catch (error) {
      this.log.warn({ err: error, version: ack.version }, 'could not acknowledge the configuration');
    }
  }
}
