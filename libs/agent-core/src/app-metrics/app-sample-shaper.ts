import { MAX_TAGS_PER_SAMPLE, METRIC_NAME_PATTERN, MetricSample } from '@app/contracts';
import { ExposedSample } from './exposition-parser';

export interface ShaperOptions {
  /** Tags every sample gets first, e.g. `{ source: 'scrape', target: 'web' }` plus the configured labels. */
  baseTags: Record<string, string>;
  allow?: string[];
  deny?: string[];
  maxSeries: number;
}

/** Past the series limit: the whole collection is refused, as Prometheus fails a scrape past sample_limit. */
export class SeriesLimitError extends Error {}

/** Longest tag value ingestion stores (apps/ingestion/src/wire/agent-message-checks.ts). */
const MAX_TAG_VALUE_LENGTH = 1000;

/**
 * Turns an application's samples into the agent's MetricSample: names kept as exposed, its labels as
 * tags after the base tags (a label that collides with one is renamed `exported_<name>`, as Prometheus
 * does), allow/deny applied to names. What ingestion would refuse (a name outside its pattern, too many
 * tags, a long or NUL-bearing value) is skipped and counted; non-finite values are dropped silently
 * (an empty summary's NaN quantiles are normal). One shaper per collection.
 */
export class AppSampleShaper {
  readonly samples: MetricSample[] = [];
  /** Reason → series skipped for it. */
  readonly skipped = new Map<string, number>();
  private readonly allow?: RegExp[];
  private readonly deny: RegExp[];

  constructor(private readonly options: ShaperOptions) {
    this.allow = options.allow?.length ? options.allow.map(globToRegExp) : undefined;
    this.deny = (options.deny ?? []).map(globToRegExp);
  }

  /** Throws SeriesLimitError once more than maxSeries samples would be kept. */
  add(sample: ExposedSample): void {
    const shaped = this.shape(sample);
    if (!shaped) return;
    if (this.samples.length >= this.options.maxSeries)
      throw new SeriesLimitError(`more than ${this.options.maxSeries} series (max_series)`);
    this.samples.push(shaped);
  }

  /**
   * The sample as it would be stored, or undefined when it is filtered out (allow/deny, a non-finite
   * value) or skipped (counted in `skipped`). Does not keep it: for a source that keeps its own series.
   */
  shape(sample: ExposedSample): MetricSample | undefined {
    const { name, labels, value } = sample;
    if (this.allow && !this.allow.some((p) => p.test(name))) return undefined;
    if (this.deny.some((p) => p.test(name))) return undefined;
    if (!Number.isFinite(value)) return undefined;
    if (!METRIC_NAME_PATTERN.test(name)) return this.skip('name not storable');
    const tags: Record<string, string> = { ...this.options.baseTags };
    let count = Object.keys(tags).length;
    for (const [key, tag] of Object.entries(labels)) {
      const storedKey = key in this.options.baseTags ? `exported_${key}` : key;
      if (tag.length > MAX_TAG_VALUE_LENGTH || tag.includes('\u0000'))
        return this.skip('label value too long');
      if (++count > MAX_TAGS_PER_SAMPLE) return this.skip(`more than ${MAX_TAGS_PER_SAMPLE} tags`);
      tags[storedKey] = tag;
    }
    return { name, value, tags };
  }

  /** "3 series skipped (more than 16 tags)", or undefined when none was. */
  skippedSummary(): string | undefined {
    if (!this.skipped.size) return undefined;
    const parts = [...this.skipped].map(([reason, n]) => `${n} series skipped (${reason})`);
    return parts.join('; ');
  }

  private skip(reason: string): undefined {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    return undefined;
  }
}

/** `http_*` → /^http_.*$/; only `*` is special. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}
