import { AppMetricsSettings, FieldError } from '@app/contracts';
import { Collector } from '../agent-type';
import { ExecCollector } from './exec-collector';
import { ExecPluginConfig, parseExecPlugins } from './exec-config';
import { OtlpCollector } from './otlp-collector';
import { OtlpListener, parseOtlpSection } from './otlp-config';
import { PluginConfigError } from './plugin-config';
import { ScrapeCollector } from './scrape-collector';
import { parseScrapeTargets, ScrapeTargetConfig } from './scrape-config';
import { StatsdCollector } from './statsd-collector';
import { parseStatsdSection, StatsdListener } from './statsd-config';

/** One collector a section asks for; `key` names it with its whole config, so an unchanged one is kept. */
export interface SourceSpec {
  key: string;
  create(): Collector;
}

/**
 * One kind of application-metrics source that remote configuration and agent settings can carry:
 * its validator (throws PluginConfigError naming `<field>…`) and the collectors a valid value runs.
 * A new kind of source (OTLP intake) is one more entry in APP_METRICS_SECTIONS.
 */
export interface AppMetricsSection<T> {
  parse(value: unknown, field: string): T;
  sources(config: T, collectIntervalSeconds: number): SourceSpec[];
}

const section = <T>(definition: AppMetricsSection<T>) => definition;

export const APP_METRICS_SECTIONS = {
  scrape_targets: section<ScrapeTargetConfig[]>({
    parse: parseScrapeTargets,
    sources: (targets, interval) =>
      targets.map((target) => ({
        key: `scrape ${interval} ${JSON.stringify(target)}`,
        create: () => new ScrapeCollector(target, interval),
      })),
  }),
  exec_plugins: section<ExecPluginConfig[]>({
    parse: parseExecPlugins,
    sources: (plugins, interval) =>
      plugins.map((plugin) => ({
        key: `exec ${interval} ${JSON.stringify(plugin)}`,
        create: () => new ExecCollector(plugin, interval),
      })),
  }),
  statsd: section<StatsdListener | null>({
    parse: parseStatsdSection,
    sources: (listener) =>
      listener
        ? [
            {
              key: `statsd ${JSON.stringify(listener)}`,
              create: () => new StatsdCollector(listener.host, listener.port, listener.maxSeries),
            },
          ]
        : [],
  }),
  otlp: section<OtlpListener | null>({
    parse: parseOtlpSection,
    sources: (listener) =>
      listener
        ? [
            {
              key: `otlp ${JSON.stringify(listener)}`,
              create: () => new OtlpCollector(listener.host, listener.port, listener.config),
            },
          ]
        : [],
  }),
} as const;

export type AppMetricsSectionName = keyof typeof APP_METRICS_SECTIONS;
export const APP_METRICS_SECTION_NAMES = Object.keys(APP_METRICS_SECTIONS) as AppMetricsSectionName[];

/** Validated sections, defaults applied; an absent section is unset (the agent's own applies). */
export type ParsedAppMetrics = {
  -readonly [K in AppMetricsSectionName]?: ReturnType<(typeof APP_METRICS_SECTIONS)[K]['parse']>;
};

/**
 * Validates the `app_metrics` of a configuration: every section known and valid. Throws
 * PluginConfigError with every problem, each naming its field (`app_metrics.scrape_targets[0].url`).
 */
export function parseAppMetrics(
  value: AppMetricsSettings | undefined,
  field = 'app_metrics',
): ParsedAppMetrics {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PluginConfigError([{ field, reason: 'must be an object of sections' }]);
  const parsed: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [name, raw] of Object.entries(value)) {
    const definition = (APP_METRICS_SECTIONS as Record<string, AppMetricsSection<unknown>>)[name];
    if (!definition) {
      errors.push({
        field: `${field}.${name}`,
        reason: `unknown section; known: ${APP_METRICS_SECTION_NAMES.join(', ')}`,
      });
      continue;
    }
    try {
      parsed[name] = definition.parse(raw, `${field}.${name}`);
    } catch (error) {
      if (!(error instanceof PluginConfigError)) throw error;
      errors.push(...error.errors);
    }
  }
  if (errors.length) throw new PluginConfigError(errors);
  return parsed as ParsedAppMetrics;
}

/** The problems of an `app_metrics` value, for a platform that answers 400 rather than throwing. */
export function appMetricsProblems(value: unknown, field = 'app_metrics'): FieldError[] {
  try {
    parseAppMetrics(value as AppMetricsSettings | undefined, field);
    return [];
  } catch (error) {
    if (error instanceof PluginConfigError) return error.errors;
    throw error;
  }
}
