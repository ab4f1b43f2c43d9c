import { MAX_QUERY_BUCKETS } from '@app/contracts';
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

/**
 * A chart's buckets: per series, every bucket of `stepMs` (epoch-aligned) that [from, to) touches, in
 * typed columns. A chart is dense and bounded (MAX_QUERY_BUCKETS), so this makes no object or map
 * entry per bucket as BucketGrid does (a 24 h chart at 1-minute steps is ~11,500 buckets).
 */
export class DenseBucketGrid {
  /** Start of the first bucket. */
  readonly first: number;
  /** Buckets per series. */
  readonly width: number;
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly last: Float64Array;
  readonly lastTs: Float64Array;
  private readonly rowOf = new Map<number, number>();

  constructor(
    seriesIds: readonly number[],
    from: number,
    to: number,
    readonly stepMs: number,
  ) {
    this.first = Math.floor(from / stepMs) * stepMs;
    this.width = Math.max(1, Math.ceil((to - this.first) / stepMs));
    if (this.width > MAX_QUERY_BUCKETS + 1)
      throw new RangeError(`${this.width} buckets: a chart has at most ${MAX_QUERY_BUCKETS}`);
    seriesIds.forEach((id, row) => this.rowOf.set(id, row * this.width));
    const size = seriesIds.length * this.width;
    this.count = new Float64Array(size);
    this.sum = new Float64Array(size);
    this.min = new Float64Array(size);
    this.max = new Float64Array(size);
    this.last = new Float64Array(size);
    this.lastTs = new Float64Array(size);
  }

  /** Index of the bucket holding `ts` of a series; callers pass only samples inside [from, to). */
  private at(seriesId: number, ts: number): number {
    const row = this.rowOf.get(seriesId);
    const col = Math.floor((ts - this.first) / this.stepMs);
    if (row === undefined || col < 0 || col >= this.width)
      throw new RangeError(`series ${seriesId} at ${ts} is outside the chart`);
    return row + col;
  }

  add(seriesId: number, ts: number, value: number): void {
    const i = this.at(seriesId, ts);
    if (this.count[i] === 0) {
      this.count[i] = 1;
      this.sum[i] = this.min[i] = this.max[i] = this.last[i] = value;
      this.lastTs[i] = ts;
      return;
    }
    this.count[i]++;
    this.sum[i] += value;
    if (value < this.min[i]) this.min[i] = value;
    if (value > this.max[i]) this.max[i] = value;
    if (ts >= this.lastTs[i]) {
      this.last[i] = value;
      this.lastTs[i] = ts;
    }
  }

  /** A finer bucket (its start `ts`) folded into the bucket that contains it. */
  merge(seriesId: number, ts: number, a: Aggregate): void {
    const i = this.at(seriesId, ts);
    if (this.count[i] === 0) {
      this.count[i] = a.count;
      this.sum[i] = a.sum;
      this.min[i] = a.min;
      this.max[i] = a.max;
      this.last[i] = a.last;
      this.lastTs[i] = a.lastTs;
      return;
    }
    this.count[i] += a.count;
    this.sum[i] += a.sum;
    if (a.min < this.min[i]) this.min[i] = a.min;
    if (a.max > this.max[i]) this.max[i] = a.max;
    if (a.lastTs >= this.lastTs[i]) {
      this.last[i] = a.last;
      this.lastTs[i] = a.lastTs;
    }
  }

  /** Calls `visit` with the start and index of every non-empty bucket of a series, in time order. */
  forEachBucket(seriesId: number, visit: (bucket: number, i: number) => void): void {
    const row = this.rowOf.get(seriesId);
    if (row === undefined) return;
    for (let col = 0; col < this.width; col++)
      if (this.count[row + col] > 0) visit(this.first + col * this.stepMs, row + col);
  }
}
