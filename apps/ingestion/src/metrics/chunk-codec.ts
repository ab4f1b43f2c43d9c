/**
 * The byte format of stored samples: per series, delta-of-delta timestamps as zigzag varints and
 * values XOR'ed with the series' previous value (Gorilla's idea, byte-aligned rather than bit-packed
 * so that it stays short and fast in JavaScript). No maintained npm package encodes float time series
 * this way; the format is small enough to own and is pinned by chunk-codec.spec.ts.
 *
 * A chunk holds one agent's samples of one hour. Every series section carries its byte length, so a
 * reader that wants one metric skips the others without decoding them.
 */

/** Chunks never cross an hour: `(agent_id, hour_start)` is their index and retention drops whole hours. */
export const HOUR_MS = 3_600_000;

const CHUNK_FORMAT = 1;
const ROLLUP_FORMAT = 1;

export interface EncodedSample {
  seriesId: number;
  ts: number;
  value: number;
}

/** Aggregate of the samples of one series in one bucket: what the query API returns, plus `lastTs`. */
export interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  /** ts of `last`, so two aggregates of one bucket merge with the right last value. */
  lastTs: number;
}

export interface RollupBucket extends Aggregate {
  seriesId: number;
  /** Bucket start, ms since epoch. */
  ts: number;
}

export class ChunkFormatError extends Error {}

/** Growable byte buffer with varint and float writers. */
class ByteWriter {
  buf: Buffer;
  length = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  /** Unsigned varint of an integer up to 2^53 (arithmetic, not bitwise: bit operators stop at 32 bits). */
  uvarint(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  svarint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(src: Uint8Array, from: number, to: number): void {
    this.ensure(to - from);
    for (let i = from; i < to; i++) this.buf[this.length++] = src[i];
  }

  /** Appends another writer's bytes after their varint length: a series section a reader can skip. */
  section(body: ByteWriter): void {
    this.uvarint(body.length);
    this.ensure(body.length);
    // A series section is often ~10 bytes: a loop costs less than Buffer#copy's call into C++.
    if (body.length <= 64) for (let i = 0; i < body.length; i++) this.buf[this.length + i] = body.buf[i];
    else body.buf.copy(this.buf, this.length, 0, body.length);
    this.length += body.length;
  }

  reset(): void {
    this.length = 0;
  }

  /** The bytes written (a view: the writer is not used again). */
  finish(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** One series section at a time is built here, then copied after its length (encoders are synchronous). */
const SECTION = new ByteWriter(4096);

class ByteReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new ChunkFormatError('chunk ends early');
    return this.buf[this.pos++];
  }

  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new ChunkFormatError('varint too long');
    }
  }

  svarint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
}

/** Scratch for XorWriter: one value's bytes at a time, so encoding allocates nothing per value. */
const XOR_CURRENT = new Uint8Array(8);
const XOR_VIEW = new DataView(XOR_CURRENT.buffer);
const XOR_DIFF = new Uint8Array(8);
const XOR_PREVIOUS = new Uint8Array(8);

/** XOR of each value with the previous one: a control byte (leading zero bytes << 4 | kept bytes), then the kept bytes. */
class XorWriter {
  /** Shared scratch, like XOR_CURRENT: one series is written at a time, and a chunk has many. */
  private readonly prev = XOR_PREVIOUS;
  private first = true;

  constructor(private readonly out: ByteWriter) {}

  write(value: number): void {
    XOR_VIEW.setFloat64(0, value);
    if (this.first) {
      this.first = false;
      this.out.bytes(XOR_CURRENT, 0, 8);
    } else {
      const x = XOR_DIFF;
      for (let i = 0; i < 8; i++) x[i] = XOR_CURRENT[i] ^ this.prev[i];
      let lead = 0;
      while (lead < 8 && x[lead] === 0) lead++;
      if (lead === 8) this.out.byte(0);
      else {
        let end = 8;
        while (x[end - 1] === 0) end--;
        this.out.byte((lead << 4) | (end - lead));
        this.out.bytes(x, lead, end);
      }
    }
    this.prev.set(XOR_CURRENT);
  }
}

/** Scratch for readXor: decoders are synchronous, so one set serves every call. */
const XOR_READ = new Uint8Array(8);
const XOR_READ_VIEW = new DataView(XOR_READ.buffer);

/** Reads `n` values written by XorWriter into `out[0..n)`. */
function readXor(r: ByteReader, n: number, out: Float64Array): void {
  if (n === 0) return;
  for (let i = 0; i < 8; i++) XOR_READ[i] = r.byte();
  out[0] = XOR_READ_VIEW.getFloat64(0);
  for (let k = 1; k < n; k++) {
    const control = r.byte();
    const lead = control >> 4;
    const kept = control & 0x0f;
    if (lead + kept > 8) throw new ChunkFormatError('bad value control byte');
    for (let i = lead; i < lead + kept; i++) XOR_READ[i] ^= r.byte();
    out[k] = XOR_READ_VIEW.getFloat64(0);
  }
}

/**
 * Per-series scratch columns of the decoders, grown to the longest series seen. Decoders are
 * synchronous and never nested (a visitor does not decode), so one set serves every call.
 */
class Columns {
  size = 0;
  ts = new Float64Array(0);
  value = new Float64Array(0);
  count = new Float64Array(0);
  lastTs = new Float64Array(0);
  sum = new Float64Array(0);
  min = new Float64Array(0);
  max = new Float64Array(0);
  last = new Float64Array(0);

  ensure(n: number): void {
    if (n <= this.size) return;
    this.size = Math.max(n, this.size * 2, 64);
    for (const k of ['ts', 'value', 'count', 'lastTs', 'sum', 'min', 'max', 'last'] as const)
      this[k] = new Float64Array(this.size);
  }
}

const COLUMNS = new Columns();

/** Groups by series (ascending id), each series' samples by ts (stable: equal timestamps keep their order). */
function bySeries<T extends { seriesId: number; ts: number }>(items: T[]): [number, T[]][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    let g = groups.get(item.seriesId);
    if (!g) groups.set(item.seriesId, (g = []));
    g.push(item);
  }
  const out = [...groups.entries()].sort((a, b) => a[0] - b[0]);
  for (const [, g] of out) {
    let sorted = true;
    for (let i = 1; i < g.length && sorted; i++) if (g[i].ts < g[i - 1].ts) sorted = false;
    if (!sorted) g.sort((a, b) => a.ts - b.ts);
  }
  return out;
}

/**
 * One chunk's samples as three columns, appended in arrival order: what the write path builds per
 * agent and hour instead of an object per sample.
 */
export class ChunkSamples {
  readonly seriesIds: number[] = [];
  readonly ts: number[] = [];
  readonly values: number[] = [];

  get length(): number {
    return this.ts.length;
  }

  push(seriesId: number, ts: number, value: number): void {
    this.seriesIds.push(seriesId);
    this.ts.push(ts);
    this.values.push(value);
  }

  static of(samples: readonly EncodedSample[]): ChunkSamples {
    const columns = new ChunkSamples();
    for (const s of samples) columns.push(s.seriesId, s.ts, s.value);
    return columns;
  }
}

/**
 * The positions of `c` per series by time, equal timestamps in arrival order (stable); undefined when
 * they already are in that order, as a batch's samples nearly always are (ids follow the agent's order).
 */
function seriesOrder(c: ChunkSamples): number[] | undefined {
  const { seriesIds: ids, ts } = c;
  let ordered = true;
  for (let i = 1; i < ids.length && ordered; i++)
    ordered = ids[i - 1] < ids[i] || (ids[i - 1] === ids[i] && ts[i - 1] <= ts[i]);
  if (ordered) return undefined;
  const order = Array.from({ length: ids.length }, (_, i) => i);
  return order.sort((a, b) => ids[a] - ids[b] || ts[a] - ts[b] || a - b);
}

/** Encodes samples of one agent and one hour; `base` (the hour start) makes the first timestamps small. */
export function encodeChunk(samples: readonly EncodedSample[] | ChunkSamples, base: number): Buffer {
  const c = samples instanceof ChunkSamples ? samples : ChunkSamples.of(samples);
  const { seriesIds: ids, ts, values } = c;
  const n = c.length;
  const order = seriesOrder(c);
  const at = (i: number) => (order ? order[i] : i);
  const out = new ByteWriter(16 + n * 6);
  let seriesCount = 0;
  for (let i = 0; i < n; i++) if (i === 0 || ids[at(i)] !== ids[at(i - 1)]) seriesCount++;
  out.byte(CHUNK_FORMAT);
  out.uvarint(seriesCount);
  let prevId = 0;
  for (let start = 0; start < n;) {
    const seriesId = ids[at(start)];
    let end = start + 1;
    while (end < n && ids[at(end)] === seriesId) end++;
    out.uvarint(seriesId - prevId);
    prevId = seriesId;
    const body = SECTION;
    body.reset();
    body.uvarint(end - start);
    let prevTs = base;
    let prevDelta = 0;
    for (let i = start; i < end; i++) {
      const t = ts[at(i)];
      const delta = t - prevTs;
      body.svarint(i === start ? delta : delta - prevDelta);
      if (i > start) prevDelta = delta;
      prevTs = t;
    }
    const xor = new XorWriter(body);
    for (let i = start; i < end; i++) xor.write(values[at(i)]);
    out.section(body);
    start = end;
  }
  return out.finish();
}

/**
 * Calls `visit` for every sample of the chunk (per series, by ts), or only for the series in `only`.
 * Throws ChunkFormatError on a corrupt or unknown chunk rather than returning wrong numbers.
 */
export function decodeChunk(
  data: Uint8Array,
  base: number,
  visit: (seriesId: number, ts: number, value: number) => void,
  only?: ReadonlySet<number>,
): void {
  const r = new ByteReader(data);
  if (r.byte() !== CHUNK_FORMAT) throw new ChunkFormatError('unknown chunk format');
  const seriesCount = r.uvarint();
  let seriesId = 0;
  for (let s = 0; s < seriesCount; s++) {
    seriesId += r.uvarint();
    const length = r.uvarint();
    const end = r.pos + length;
    if (end > data.length) throw new ChunkFormatError('series section past the end');
    if (only && !only.has(seriesId)) {
      r.pos = end;
      continue;
    }
    const n = r.uvarint();
    // Every entry takes at least a byte: a larger count is corrupt, not a reason to allocate.
    if (n > length) throw new ChunkFormatError('series count past its section');
    const c = COLUMNS;
    c.ensure(n);
    let prevTs = base;
    let delta = 0;
    for (let i = 0; i < n; i++) {
      const d = r.svarint();
      if (i === 0) prevTs = base + d;
      else {
        delta += d;
        prevTs += delta;
      }
      c.ts[i] = prevTs;
    }
    readXor(r, n, c.value);
    if (r.pos !== end) throw new ChunkFormatError('series section length mismatch');
    for (let i = 0; i < n; i++) visit(seriesId, c.ts[i], c.value[i]);
  }
}

export function decodeChunkSamples(data: Uint8Array, base: number): EncodedSample[] {
  const out: EncodedSample[] = [];
  decodeChunk(data, base, (seriesId, ts, value) => out.push({ seriesId, ts, value }));
  return out;
}

/**
 * Encodes rollup buckets of one agent and one window (an hour of 1-minute buckets, a day of 1-hour
 * buckets): per series, bucket offsets, counts and last-sample offsets as varints, and sum, min, max,
 * last as four XOR streams.
 */
export function encodeRollup(buckets: RollupBucket[], base: number, stepMs: number): Buffer {
  const out = new ByteWriter(16 + buckets.length * 12);
  const groups = bySeries(buckets);
  out.byte(ROLLUP_FORMAT);
  out.uvarint(groups.length);
  let prevId = 0;
  for (const [seriesId, group] of groups) {
    out.uvarint(seriesId - prevId);
    prevId = seriesId;
    const body = SECTION;
    body.reset();
    body.uvarint(group.length);
    let prevIndex = 0;
    for (const b of group) {
      const index = (b.ts - base) / stepMs;
      body.uvarint(index - prevIndex);
      prevIndex = index;
      body.uvarint(b.count);
      body.svarint(b.lastTs - b.ts);
    }
    for (const field of ['sum', 'min', 'max', 'last'] as const) {
      const w = new XorWriter(body);
      for (const b of group) w.write(b[field]);
    }
    out.section(body);
  }
  return out.finish();
}

/** decodeRollup as new objects, one per bucket (compaction and the small reads keep them). */
export function decodeRollup(
  data: Uint8Array,
  base: number,
  stepMs: number,
  only?: ReadonlySet<number>,
): RollupBucket[] {
  const out: RollupBucket[] = [];
  visitRollup(data, base, stepMs, (b) => out.push({ ...b }), only);
  return out;
}

/**
 * Calls `visit` for every bucket of the rollup (per series, by bucket), or only for the series in
 * `only`. The bucket handed over is one object reused for every call, so a 24 h chart makes no
 * object per bucket: copy what you keep. Throws ChunkFormatError on a corrupt or unknown rollup.
 */
export function visitRollup(
  data: Uint8Array,
  base: number,
  stepMs: number,
  visit: (b: Readonly<RollupBucket>) => void,
  only?: ReadonlySet<number>,
): void {
  const r = new ByteReader(data);
  if (r.byte() !== ROLLUP_FORMAT) throw new ChunkFormatError('unknown rollup format');
  const seriesCount = r.uvarint();
  const b: RollupBucket = { seriesId: 0, ts: 0, count: 0, sum: 0, min: 0, max: 0, last: 0, lastTs: 0 };
  let seriesId = 0;
  for (let s = 0; s < seriesCount; s++) {
    seriesId += r.uvarint();
    const length = r.uvarint();
    const end = r.pos + length;
    if (end > data.length) throw new ChunkFormatError('series section past the end');
    if (only && !only.has(seriesId)) {
      r.pos = end;
      continue;
    }
    const n = r.uvarint();
    // Every entry takes at least a byte: a larger count is corrupt, not a reason to allocate.
    if (n > length) throw new ChunkFormatError('series count past its section');
    const c = COLUMNS;
    c.ensure(n);
    let index = 0;
    for (let i = 0; i < n; i++) {
      index += r.uvarint();
      const ts = base + index * stepMs;
      c.ts[i] = ts;
      c.count[i] = r.uvarint();
      c.lastTs[i] = ts + r.svarint();
    }
    readXor(r, n, c.sum);
    readXor(r, n, c.min);
    readXor(r, n, c.max);
    readXor(r, n, c.last);
    if (r.pos !== end) throw new ChunkFormatError('series section length mismatch');
    b.seriesId = seriesId;
    for (let i = 0; i < n; i++) {
      b.ts = c.ts[i];
      b.count = c.count[i];
      b.lastTs = c.lastTs[i];
      b.sum = c.sum[i];
      b.min = c.min[i];
      b.max = c.max[i];
      b.last = c.last[i];
      visit(b);
    }
  }
}
