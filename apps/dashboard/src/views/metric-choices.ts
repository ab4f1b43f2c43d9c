import type { DeclaredMetric, MetricsCatalog } from '../api/types';

/**
 * The metrics a chart can be added for: those the type declares, then those the agent sent that it does
 * not declare (described by their tags and newest sample), by name.
 */
export function withSentMetrics(
  declared: DeclaredMetric[],
  catalog: MetricsCatalog | undefined,
  /** Every name the type declares, info metrics too: those are never offered, sent or not. */
  typeMetrics: DeclaredMetric[] = declared,
): DeclaredMetric[] {
  const known = new Set([...declared, ...typeMetrics].map((m) => m.name));
  const sent = (catalog?.metrics ?? [])
    .filter((m) => !known.has(m.name))
    .map((m) => ({
      name: m.name,
      unit: m.unit ?? '',
      description: `sent${Object.keys(m.tags).length ? `, tags ${Object.keys(m.tags).join(', ')}` : ''}, last ${new Date(m.last_sample_at).toLocaleTimeString()}`,
    }));
  return [...declared, ...sent];
}
