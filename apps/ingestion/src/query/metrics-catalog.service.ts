import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@app/clock';
import {
  MAX_CATALOG_METRICS,
  MAX_CATALOG_TAG_VALUES,
  MetricCatalogEntry,
  MetricsCatalogRequest,
  MetricsCatalogResult,
  NotFoundError,
} from '@app/contracts';
import { AgentsRepository } from '../liveness/agents.repository';
import { SeriesReader, SeriesRow } from './series-reader';

/** Default look-back of the catalog: what an agent sends today, not what it sent once. */
const DEFAULT_CATALOG_WINDOW_MS = 86_400_000;
/**
 * Series rows (name × tag set) read per answer. A Docker host with 300 containers has about 10 series
 * per metric per container; 20,000 rows cover that and keep one answer to a few MB.
 */
const MAX_CATALOG_SERIES = 20_000;

/** Metric discovery: which metric names one agent has sent, with their unit, tags and newest sample. */
@Injectable()
export class MetricsCatalogService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly samples: SeriesReader,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async catalog(request: MetricsCatalogRequest): Promise<MetricsCatalogResult> {
    const { organizationId, agentId } = request;
    if (!(await this.agents.find(organizationId, agentId))) throw new NotFoundError(`agent ${agentId}`);
    const since = request.since ?? this.clock.now() - DEFAULT_CATALOG_WINDOW_MS;
    const rows = await this.samples.seriesSince(agentId, since, MAX_CATALOG_SERIES + 1);
    const { metrics, truncated } = summarizeSeries(rows.slice(0, MAX_CATALOG_SERIES));
    return { agentId, since, metrics, truncated: truncated || rows.length > MAX_CATALOG_SERIES };
  }
}

/** Series rows (sorted by name) → one entry per metric name, tag values merged and bounded. */
export function summarizeSeries(rows: SeriesRow[]): { metrics: MetricCatalogEntry[]; truncated: boolean } {
  const byName = new Map<string, { entry: MetricCatalogEntry; values: Map<string, Set<string>> }>();
  let truncated = false;
  for (const row of rows) {
    let item = byName.get(row.name);
    if (!item) {
      if (byName.size >= MAX_CATALOG_METRICS) {
        truncated = true;
        break;
      }
      item = {
        entry: { name: row.name, unit: row.unit, tags: {}, lastSampleAt: row.last },
        values: new Map(),
      };
      byName.set(row.name, item);
    }
    item.entry.unit ??= row.unit;
    item.entry.lastSampleAt = Math.max(item.entry.lastSampleAt, row.last);
    for (const [key, value] of Object.entries(JSON.parse(row.tags) as Record<string, string>)) {
      let values = item.values.get(key);
      if (!values) item.values.set(key, (values = new Set()));
      if (values.size < MAX_CATALOG_TAG_VALUES) values.add(value);
    }
  }
  const metrics = [...byName.values()].map(({ entry, values }) => ({
    ...entry,
    tags: Object.fromEntries(
      [...values].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]),
    ),
  }));
  return { metrics, truncated };
}
