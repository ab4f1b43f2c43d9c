import { MAX_TAGS_PER_SAMPLE, MetricSample } from '@app/contracts';
import { AppSampleShaper } from './app-sample-shaper';
import { OtlpIntakeConfig } from './otlp-config';
import { convertMetricsRequest } from './otlp-metrics-converter';
import { OtlpMetricsRequest } from './otlp-protocol';

/** What one export request came to: the points refused and why, for the OTLP partial-success answer. */
export interface OtlpIngestResult {
  rejectedDataPoints: number;
  errorMessage?: string;
}

/**
 * The series received over OTLP since the last collection, at most `max_series` of them: a point of a new
 * series past that is refused (and reported to its sender and in the collector's error), as StatsD's
 * aggregator does. Points are shaped like the other sources' samples (allow/deny, `source=otlp` and the
 * configured labels, what ingestion would refuse skipped) and combined per series by their mode.
 */
export class OtlpSeriesStore {
  private series = new Map<string, { sample: MetricSample; sum: boolean }>();
  private readonly shaper: AppSampleShaper;
  private readonly tagBudget: number;
  /** Reason → points refused since the last collection. */
  private refused = new Map<string, number>();

  constructor(private readonly config: OtlpIntakeConfig) {
    const baseTags = { source: 'otlp', ...config.labels };
    this.shaper = new AppSampleShaper({
      baseTags,
      allow: config.allow,
      deny: config.deny,
      maxSeries: config.max_series,
    });
    this.tagBudget = MAX_TAGS_PER_SAMPLE - Object.keys(baseTags).length;
  }

  ingest(request: OtlpMetricsRequest): OtlpIngestResult {
    const { points, refused } = convertMetricsRequest(request, this.tagBudget);
    for (const point of points) {
      const sample = this.shaper.shape(point);
      if (!sample) continue;
      if (point.unit) sample.unit = point.unit;
      const key = seriesKey(sample);
      const known = this.series.get(key);
      if (known) {
        known.sample.value =
          point.mode === 'sum' && known.sum ? known.sample.value + sample.value : sample.value;
      } else if (this.series.size >= this.config.max_series) {
        refused.set('series past max_series', (refused.get('series past max_series') ?? 0) + 1);
      } else this.series.set(key, { sample, sum: point.mode === 'sum' });
    }
    // The shaper counts what ingestion would refuse; per request here, so its count is this request's.
    for (const [reason, n] of this.shaper.skipped) refused.set(reason, (refused.get(reason) ?? 0) + n);
    this.shaper.skipped.clear();
    for (const [reason, n] of refused) this.refused.set(reason, (this.refused.get(reason) ?? 0) + n);
    const rejectedDataPoints = [...refused.values()].reduce((a, b) => a + b, 0);
    return rejectedDataPoints
      ? { rejectedDataPoints, errorMessage: describe(refused) }
      : { rejectedDataPoints };
  }

  /** The interval's samples, and what was refused in it; both start again empty. */
  flush(): { samples: MetricSample[]; refused?: string } {
    const samples = [...this.series.values()].map((s) => s.sample);
    const refused = this.refused.size ? describe(this.refused) : undefined;
    this.series = new Map();
    this.refused = new Map();
    return { samples, refused };
  }
}

function seriesKey(sample: MetricSample): string {
  const tags = Object.entries(sample.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${sample.name}\u0000${JSON.stringify(tags)}`;
}

/** "3 points refused (series past max_series); 1 point refused (name not storable)". */
function describe(refused: Map<string, number>): string {
  return [...refused].map(([reason, n]) => `${n} point${n === 1 ? '' : 's'} refused (${reason})`).join('; ');
}
