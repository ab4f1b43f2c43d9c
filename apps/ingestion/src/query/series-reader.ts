import { Injectable } from '@nestjs/common';
import { DenseBucketGrid } from '../metrics/aggregates';
import { decodeChunk, HOUR_MS, RollupBucket, visitRollup } from '../metrics/chunk-codec';
import {
  ChunkData,
  RollupData,
  SeriesInfo,
  StoredMetricsRepository,
} from '../metrics/stored-metrics.repository';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** Rollup resolutions, coarsest first: bucket width and the window one row covers. */
export const ROLLUP_TIERS = [
  { stepMs: HOUR_MS, windowMs: DAY_MS },
  { stepMs: MINUTE_MS, windowMs: HOUR_MS },
] as const;

export interface BucketRow {
  tags: string;
  unit: string | null;
  bucket: number;
  avg: number;
  min: number;
  max: number;
  last: number;
  count: number;
}

export interface SeriesRow {
  name: string;
  /** Canonical JSON of the tag set. */
  tags: string;
  unit: string | null;
  last: number;
}

/** Uncompacted chunks looked at for "newest sample": the hours the compaction job has not merged. */
const NEWEST_PENDING_CHUNKS = 5000;
/** Rollup rows looked at for "newest sample" per resolution, newest first. */
const NEWEST_ROLLUP_ROWS = 48;

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/**
 * Answers reads from chunks and rollups. A range is read at the coarsest rollup whose buckets nest in
 * the requested step: rollup rows for the whole buckets inside the range, raw chunks for the edges
 * and for what the compaction job has not merged yet (uncompacted chunks are in no rollup; compacted
 * ones are exactly the 1-minute rollup of their hour, and the 1-hour rollup of a day is built from
 * those), so every sample is counted once whatever the mix.
 */
@Injectable()
export class SeriesReader {
  constructor(private readonly repository: StoredMetricsRepository) {}

  /** Buckets of `stepMs` (epoch-aligned) of one agent's metric in [from, to), by tag set then bucket. */
  async bucketed(
    agentId: string,
    name: string,
    from: number,
    to: number,
    stepMs: number,
  ): Promise<BucketRow[]> {
    const series = await this.repository.seriesOf(agentId, name);
    if (!series.length) return [];
    const only = new Set(series.map((s) => s.seriesId));
    const grid = new DenseBucketGrid(
      series.map((s) => s.seriesId),
      from,
      to,
      stepMs,
    );
    const plan = planRange(from, to, stepMs);
    const rollups = plan.tier
      ? await this.repository.rollupsOf(agentId, plan.tier.stepMs, plan.rollupsFrom, plan.innerTo, name)
      : [];
    const chunks = await this.repository.chunksOf(agentId, plan.fromHour, to, plan.chunks);
    foldRange(plan, rollups, chunks, only, {
      sample: (id, ts, value) => grid.add(id, ts, value),
      bucket: (b) => grid.merge(b.seriesId, b.ts, b),
    });
    return toBucketRows(grid, series);
  }

  /** ts of the newest stored sample of one agent's metric, or null. */
  async newestSampleAt(agentId: string, name: string): Promise<number | null> {
    const series = await this.repository.seriesOf(agentId, name);
    if (!series.length) return null;
    const only = new Set(series.map((s) => s.seriesId));
    let newest = -Infinity;
    for (const chunk of await this.repository.newestPendingChunks(agentId, NEWEST_PENDING_CHUNKS))
      decodeChunk(chunk.data, chunk.hourStart, (_, ts) => (newest = Math.max(newest, ts)), only);
    // Compacted hours are in the 1-minute rollups; older than those rows, in the 1-hour ones.
    for (const tier of [ROLLUP_TIERS[1], ROLLUP_TIERS[0]]) {
      for (const row of await this.repository.newestRollups(agentId, name, tier.stepMs, NEWEST_ROLLUP_ROWS)) {
        if (row.windowStart + tier.windowMs <= newest) break;
        let found = false;
        visitRollup(
          row.data,
          row.windowStart,
          tier.stepMs,
          (b) => {
            found = true;
            newest = Math.max(newest, b.lastTs);
          },
          only,
        );
        if (found) break;
      }
    }
    return newest === -Infinity ? null : newest;
  }

  /** One agent's series with a sample at or after `since`, with their newest sample, by name; at most `limit`. */
  async seriesSince(agentId: string, since: number, limit: number): Promise<SeriesRow[]> {
    const series = await this.repository.seriesOf(agentId);
    if (!series.length) return [];
    const last = new Map<number, number>();
    const see = (id: number, ts: number) => {
      if (ts >= since && ts > (last.get(id) ?? -Infinity)) last.set(id, ts);
    };
    const minutes = ROLLUP_TIERS[1];
    for (const row of await this.repository.rollupsOf(
      agentId,
      minutes.stepMs,
      floorTo(since, HOUR_MS),
      Number.MAX_SAFE_INTEGER,
    ))
      visitRollup(row.data, row.windowStart, minutes.stepMs, (b) => see(b.seriesId, b.lastTs));
    // Uncompacted chunks only: compacted hours are in the 1-minute rollups read above.
    const chunks = await this.repository.chunksOf(agentId, floorTo(since, HOUR_MS), Number.MAX_SAFE_INTEGER, {
      onlyOutside: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    });
    for (const chunk of chunks) decodeChunk(chunk.data, chunk.hourStart, see);
    return series
      .filter((s) => last.has(s.seriesId))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, limit)
      .map((s) => ({ name: s.name, tags: s.tags, unit: s.unit, last: last.get(s.seriesId)! }));
  }
}

/** How a range is read: which rollup tier covers its inside, and which chunks cover the rest. */
export interface RangePlan {
  from: number;
  to: number;
  tier?: (typeof ROLLUP_TIERS)[number];
  /** Whole rollup buckets in [innerFrom, innerTo) come from rollups; empty without a tier. */
  innerFrom: number;
  innerTo: number;
  rollupsFrom: number;
  fromHour: number;
  chunks: 'all' | { onlyOutside: [number, number] };
}

/** The coarsest rollup whose buckets nest in `stepMs`, if the range holds a whole bucket of it. */
export function planRange(from: number, to: number, stepMs: number): RangePlan {
  const fromHour = floorTo(from, HOUR_MS);
  const tier = ROLLUP_TIERS.find((t) => stepMs % t.stepMs === 0);
  if (tier) {
    const innerFrom = ceilTo(from, tier.stepMs);
    const innerTo = floorTo(to, tier.stepMs);
    if (innerFrom < innerTo)
      return {
        from,
        to,
        tier,
        innerFrom,
        innerTo,
        rollupsFrom: floorTo(innerFrom, tier.windowMs),
        fromHour,
        // Compacted chunks only for hours that reach outside [innerFrom, innerTo): inside, the rollups have them.
        chunks: { onlyOutside: [ceilTo(innerFrom, HOUR_MS), floorTo(innerTo, HOUR_MS)] },
      };
  }
  return { from, to, innerFrom: 0, innerTo: 0, rollupsFrom: 0, fromHour, chunks: 'all' };
}

/**
 * Hands every sample of [from, to) of the series in `only` over exactly once: as a rollup bucket
 * inside [innerFrom, innerTo), or as a raw sample (uncompacted chunks anywhere, compacted ones at the edges).
 */
export function foldRange(
  plan: RangePlan,
  rollups: RollupData[],
  chunks: ChunkData[],
  only: ReadonlySet<number>,
  to: {
    sample: (seriesId: number, ts: number, value: number) => void;
    /** The bucket object is reused from call to call (visitRollup): copy what you keep. */
    bucket: (b: Readonly<RollupBucket>) => void;
  },
): void {
  const { from, innerFrom, innerTo, tier } = plan;
  if (tier)
    for (const row of rollups)
      visitRollup(
        row.data,
        row.windowStart,
        tier.stepMs,
        (b) => {
          if (b.ts >= innerFrom && b.ts < innerTo) to.bucket(b);
        },
        only,
      );
  for (const chunk of chunks)
    decodeChunk(
      chunk.data,
      chunk.hourStart,
      (id, ts, value) => {
        if (ts < from || ts >= plan.to) return;
        if (chunk.compacted && ts >= innerFrom && ts < innerTo) return;
        to.sample(id, ts, value);
      },
      only,
    );
}

function toBucketRows(grid: DenseBucketGrid, series: SeriesInfo[]): BucketRow[] {
  const rows: BucketRow[] = [];
  const byTags = [...series].sort((a, b) => (a.tags < b.tags ? -1 : a.tags > b.tags ? 1 : 0));
  for (const s of byTags)
    grid.forEachBucket(s.seriesId, (bucket, i) =>
      rows.push({
        tags: s.tags,
        unit: s.unit,
        bucket,
        avg: grid.sum[i] / grid.count[i],
        min: grid.min[i],
        max: grid.max[i],
        last: grid.last[i],
        count: grid.count[i],
      }),
    );
  return rows;
}
