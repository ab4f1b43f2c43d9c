import { BucketGrid } from '../metrics/aggregates';
import {
  decodeChunk,
  decodeRollup,
  encodeChunk,
  encodeRollup,
  EncodedSample,
  HOUR_MS,
} from '../metrics/chunk-codec';
import { ChunkData, RollupData } from '../metrics/stored-metrics.repository';
import { DAY_MS, MINUTE_MS } from '../query/series-reader';

/** The compacted form of one agent's hour: one chunk of every sample, and its 1-minute rollup. */
export interface CompactedHour {
  chunk: Buffer;
  sampleCount: number;
  minuteRollup: Buffer;
}

/** Merges an hour's chunks (by whatever batches they came in) into one chunk and its 1-minute buckets. */
export function compactHour(hourStart: number, chunks: ChunkData[]): CompactedHour {
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
    minuteRollup: encodeRollup(minutes.toBuckets(), hourStart, MINUTE_MS),
  };
}

/** A day's 1-hour rollup from its hours' 1-minute rollups. */
export function dayRollup(dayStart: number, minuteRows: RollupData[]): Buffer {
  const hours = new BucketGrid(HOUR_MS);
  for (const row of minuteRows)
    for (const b of decodeRollup(row.data, row.windowStart, MINUTE_MS)) hours.merge(b.seriesId, b.ts, b);
  return encodeRollup(hours.toBuckets(), dayStart, HOUR_MS);
}

export const dayOf = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
