import { MetricsBatch } from '@app/contracts';
import { RemoteSeries } from './remote-write.encoder';

/** Who sent a batch, as ingestion established it (identity checker + registry), never as the body says. */
export interface SeriesIdentity {
  organizationId: string;
  environment: string;
  agentId: string;
  /** From the registry; undefined when it has no record (the agent was deleted meanwhile). */
  agentType?: string;
  hostname?: string;
  labels: Record<string, string>;
}

/** Labels ingestion sets itself: they win over an agent label or sample tag of the same name. */
export const IdentityLabels = {
  organization: 'organization',
  environment: 'environment',
  agent: 'agent',
  agentType: 'agent_type',
  host: 'host',
} as const;

/** Prometheus metric names: `[a-zA-Z_:][a-zA-Z0-9_:]*`; agents name metrics with dots (`system.cpu.usage`). */
export function metricName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/** Prometheus label names: `[a-zA-Z_][a-zA-Z0-9_]*`, and `__` is reserved for Prometheus's own. */
export function labelName(name: string): string {
  let cleaned = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (!/^[a-zA-Z_]/.test(cleaned)) cleaned = `_${cleaned}`;
  return cleaned.startsWith('__') ? `x${cleaned}` : cleaned;
}

/**
 * One batch as remote-write series: one series per (metric, tags), labelled with the agent's labels,
 * then the sample's tags, then the identity labels, later ones winning on a name clash (so neither an
 * agent label nor a tag can pose as another organisation, environment or agent).
 */
export function toRemoteSeries(batch: MetricsBatch, who: SeriesIdentity): RemoteSeries[] {
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(who.labels)) base[labelName(name)] = value;
  const identity: Record<string, string> = {
    [IdentityLabels.organization]: who.organizationId,
    [IdentityLabels.environment]: who.environment,
    [IdentityLabels.agent]: who.agentId,
  };
  if (who.agentType) identity[IdentityLabels.agentType] = who.agentType;
  if (who.hostname) identity[IdentityLabels.host] = who.hostname;

  const series = new Map<string, RemoteSeries>();
  for (const sample of batch.samples) {
    const labels: Record<string, string> = { ...base };
    for (const [name, value] of Object.entries(sample.tags ?? {})) labels[labelName(name)] = String(value);
    Object.assign(labels, identity);
    labels.__name__ = metricName(sample.name);
    const sorted = Object.keys(labels)
      .filter((name) => labels[name] !== '')
      .sort()
      .map((name) => ({ name, value: labels[name] }));
    const key = sorted.map((l) => `${l.name}\u0000${l.value}`).join('\u0001');
    let entry = series.get(key);
    if (!entry) series.set(key, (entry = { labels: sorted, samples: [] }));
    entry.samples.push({ value: sample.value, timestamp: sample.ts ?? batch.collectedAt });
  }
  return [...series.values()];
}
