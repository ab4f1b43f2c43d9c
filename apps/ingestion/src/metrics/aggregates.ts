import { Aggregate, RollupBucket } from './chunk-codec';

/** Folds one sample into a bucket's aggregate; a later (or equal) timestamp takes `last`. */
export function addSample(a: Aggregate | undefined, ts: number, value: number): Aggregate {
  if (!a) return { count: 1, sum: value, min: value, max: value, last: value, lastTs: ts };
  a.count++;
  a.sum += value;
  if (value < a.min) a.min = value;
  if (value > a.max) a.max = value;
  if (ts >= a.lastTs) {
    a.last = value;
    a.lastTs = ts;
  }
  return a;
}

/** Merges two aggregates of the same bucket (rollups of compacted hours with samples of newer chunks). */
export function mergeAggregate(a: Aggregate | undefined, b: Aggregate): Aggregate {
  if (!a) return { ...b };
  a.count += b.count;
  a.sum += b.sum;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  if (b.lastTs >= a.lastTs) {
    a.last = b.last;
    a.lastTs = b.lastTs;
  }
  return a;
}

/** Per series, buckets of `stepMs` aligned to the epoch, keyed `seriesId` → bucket start → aggregate. */
export class BucketGrid {
  readonly series = new Map<number, Map<number, Aggregate>>();

  constructor(readonly stepMs: number) {}

  private bucketsOf(seriesId: number): Map<number, Aggregate> {
    let m = this.series.get(seriesId);
    if (!m) this.series.set(seriesId, (m = new Map()));
    return m;
  }

  add(seriesId: number, ts: number, value: number): void {
    const bucket = Math.floor(ts / this.stepMs) * this.stepMs;
    const m = this.bucketsOf(seriesId);
    m.set(bucket, addSample(m.get(bucket), ts, value));
  }

  /** A finer bucket (its start `ts`) folded into the bucket of this grid that contains it. */
  merge(seriesId: number, ts: number, aggregate: Aggregate): void {
    const bucket = Math.floor(ts / this.stepMs) * this.stepMs;
    const m = this.bucketsOf(seriesId);
    m.set(bucket, mergeAggregate(m.get(bucket), aggregate));
  }

  toBuckets(): RollupBucket[] {
    const out: RollupBucket[] = [];
    for (const [seriesId, m] of this.series) for (const [ts, a] of m) out.push({ seriesId, ts, ...a });
    return out;
  }
}
