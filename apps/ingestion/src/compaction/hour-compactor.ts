import { BucketGrid } from '../metrics/aggregates';
import {
  decodeChunk,
  decodeRollup,
  encodeChunk,
  encodeRollup,
  EncodedSample,
  HOUR_MS,
  RollupBucket,
} from '../metrics/chunk-codec';
import { ChunkData, RollupData } from '../metrics/stored-metrics.repository';
import { DAY_MS, MINUTE_MS } from '../query/series-reader';

/** One metric's rollup row of one window. */
export interface MetricRollup {
  name: string;
  data: Buffer;
}

/** The compacted form of one agent's hour: one chunk of every sample, and its 1-minute rollup per metric. */
export interface CompactedHour {
  chunk: Buffer;
  sampleCount: number;
  minuteRollups: MetricRollup[];
}

/**
 * Merges an hour's chunks (by whatever batches they came in) into one chunk and its 1-minute buckets,
 * one rollup per metric name (`nameOf` a series id).
 */
export function compactHour(
  hourStart: number,
  chunks: ChunkData[],
  nameOf: ReadonlyMap<number, string>,
): CompactedHour {
  const samples: EncodedSample[] = [];
  const minutes = new BucketGrid(MINUTE_MS);
  for (const c of chunks)
    decodeChunk(c.data, c.hourStart, (seriesId, ts, value) => {
      samples.push({ seriesId, ts, value });
      minutes.add(seriesId, ts, value);
    });
  return {
    chunk: encodeChunk(samples, hourStart),
    sampleCount: samples.length,
    minuteRollups: [...byName(minutes.toBuckets(), nameOf)].map(([name, buckets]) => ({
      name,
      data: encodeRollup(buckets, hourStart, MINUTE_MS),
    })),
  };
}

function byName(buckets: RollupBucket[], nameOf: ReadonlyMap<number, string>): Map<string, RollupBucket[]> {
  const groups = new Map<string, RollupBucket[]>();
  for (const b of buckets) {
    const name = nameOf.get(b.seriesId);
    // Series are inserted before their chunks; one missing could not be charted anyway (reads start
    // from metric_series), and failing here would stop every later hour's compaction.
    if (name === undefined) continue;
    let g = groups.get(name);
    if (!g) groups.set(name, (g = []));
    g.push(b);
  }
  return groups;
}

/** A day's 1-hour rollup of one metric from its hours' 1-minute rollups of that metric. */
export function dayRollup(dayStart: number, minuteRows: RollupData[]): Buffer {
  const hours = new BucketGrid(HOUR_MS);
  for (const row of minuteRows)
    for (const b of decodeRollup(row.data, row.windowStart, MINUTE_MS)) hours.merge(b.seriesId, b.ts, b);
  return encodeRollup(hours.toBuckets(), dayStart, HOUR_MS);
}

export const dayOf = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
