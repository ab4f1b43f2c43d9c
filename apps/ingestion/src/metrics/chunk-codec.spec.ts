import { seededRandom } from '@app/testing';
import {
  ChunkFormatError,
  decodeChunk,
  decodeChunkSamples,
  decodeRollup,
  encodeChunk,
  encodeRollup,
  EncodedSample,
  HOUR_MS,
  RollupBucket,
  visitRollup,
} from './chunk-codec';

const HOUR = Date.UTC(2026, 0, 10, 13);

/** What decoding gives back: per series (ascending), samples by ts, equal timestamps in input order. */
const canonical = (samples: EncodedSample[]) =>
  samples
    .map((s, i) => ({ ...s, i }))
    .sort((a, b) => a.seriesId - b.seriesId || a.ts - b.ts || a.i - b.i)
    .map(({ seriesId, ts, value }) => ({ seriesId, ts, value }));

describe('chunk codec', () => {
  it('gives back every sample of many series, values bit for bit', () => {
    const rnd = seededRandom(7);
    const samples: EncodedSample[] = [];
    for (let t = 0; t < 360; t++)
      for (let s = 1; s <= 300; s++)
        samples.push({
          seriesId: s * 3,
          ts: HOUR + t * 10_000 + Math.floor(rnd() * 50),
          value: rnd() * 1e6 - 5e5,
        });
    expect(decodeChunkSamples(encodeChunk(samples, HOUR), HOUR)).toEqual(canonical(samples));
  });

  it('keeps out-of-order and repeated timestamps, returning each series by time', () => {
    const samples = [
      { seriesId: 2, ts: HOUR + 5000, value: 1 },
      { seriesId: 2, ts: HOUR + 1000, value: 2 },
      { seriesId: 1, ts: HOUR + 9000, value: 3 },
      { seriesId: 2, ts: HOUR + 5000, value: 4 },
      { seriesId: 2, ts: HOUR + 3000, value: 5 },
    ];
    expect(decodeChunkSamples(encodeChunk(samples, HOUR), HOUR)).toEqual([
      { seriesId: 1, ts: HOUR + 9000, value: 3 },
      { seriesId: 2, ts: HOUR + 1000, value: 2 },
      { seriesId: 2, ts: HOUR + 3000, value: 5 },
      { seriesId: 2, ts: HOUR + 5000, value: 1 },
      { seriesId: 2, ts: HOUR + 5000, value: 4 },
    ]);
  });

  it('round-trips the values JSON cannot carry too (NaN, ±Infinity, -0), though the wire refuses them', () => {
    const values = [NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, Number.MIN_VALUE, -1.5e-300];
    const samples = values.map((value, i) => ({ seriesId: 1, ts: HOUR + i, value }));
    const back = decodeChunkSamples(encodeChunk(samples, HOUR), HOUR).map((s) => s.value);
    expect(back).toHaveLength(values.length);
    back.forEach((v, i) => expect(Object.is(v, values[i])).toBe(true));
  });

  it('takes timestamps before the base and far past it (a chunk stores what its batch carried)', () => {
    const samples = [
      { seriesId: 9, ts: HOUR - 5 * HOUR_MS, value: 1 },
      { seriesId: 9, ts: HOUR + 400 * 86_400_000, value: 2 },
      { seriesId: Number.MAX_SAFE_INTEGER, ts: 0, value: 3 },
    ];
    expect(decodeChunkSamples(encodeChunk(samples, HOUR), HOUR)).toEqual(canonical(samples));
  });

  it('encodes an empty chunk', () => {
    expect(decodeChunkSamples(encodeChunk([], HOUR), HOUR)).toEqual([]);
  });

  it('decodes only the series asked for', () => {
    const samples = [1, 2, 3].flatMap((seriesId) =>
      Array.from({ length: 10 }, (_, i) => ({ seriesId, ts: HOUR + i * 1000, value: seriesId * i })),
    );
    const seen: number[] = [];
    decodeChunk(encodeChunk(samples, HOUR), HOUR, (id) => seen.push(id), new Set([2]));
    expect(seen).toEqual(new Array(10).fill(2));
  });

  it('stores a regular 10-second series of slowly moving values in a few bytes per sample', () => {
    const samples = Array.from({ length: 360 }, (_, i) => ({
      seriesId: 1,
      ts: HOUR + i * 10_000,
      value: 40 + Math.round(Math.sin(i / 20) * 10),
    }));
    expect(encodeChunk(samples, HOUR).length / samples.length).toBeLessThan(3);
  });

  it('refuses a corrupt or truncated chunk instead of returning wrong numbers', () => {
    const data = encodeChunk(
      [
        { seriesId: 1, ts: HOUR, value: 1 },
        { seriesId: 1, ts: HOUR + 1, value: 2 },
      ],
      HOUR,
    );
    expect(() => decodeChunkSamples(data.subarray(0, data.length - 1), HOUR)).toThrow(ChunkFormatError);
    expect(() => decodeChunkSamples(Buffer.from([99, 0]), HOUR)).toThrow(ChunkFormatError);
  });
});

describe('rollup codec', () => {
  it('gives back every bucket of every series', () => {
    const rnd = seededRandom(3);
    const buckets: RollupBucket[] = [];
    for (let s = 1; s <= 20; s++)
      for (let m = 0; m < 60; m += 1 + Math.floor(rnd() * 3)) {
        const ts = HOUR + m * 60_000;
        const min = rnd() * 100;
        buckets.push({
          seriesId: s,
          ts,
          count: 6,
          sum: min * 6 + 3,
          min,
          max: min + 1,
          last: min + 0.5,
          lastTs: ts + 50_000,
        });
      }
    expect(decodeRollup(encodeRollup(buckets, HOUR, 60_000), HOUR, 60_000)).toEqual(buckets);
  });

  it('hands the buckets of the series asked for to a visitor, in order', () => {
    const buckets: RollupBucket[] = [1, 2, 3].flatMap((seriesId) =>
      [0, 5].map((m) => ({
        seriesId,
        ts: HOUR + m * 60_000,
        count: 2,
        sum: seriesId + m,
        min: m,
        max: seriesId,
        last: -m,
        lastTs: HOUR + m * 60_000 + 1,
      })),
    );
    const seen: RollupBucket[] = [];
    visitRollup(
      encodeRollup(buckets, HOUR, 60_000),
      HOUR,
      60_000,
      (b) => seen.push({ ...b }),
      new Set([1, 3]),
    );
    expect(seen).toEqual(buckets.filter((b) => b.seriesId !== 2));
  });
});
