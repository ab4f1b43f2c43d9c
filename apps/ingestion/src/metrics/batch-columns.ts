import { ChunkSamples, encodeChunk, HOUR_MS } from './chunk-codec';

/**
 * One fetch's batches as columns: batch `b` is `agentIds[b]`/`seqs[b]`, its samples `[offsets[b], offsets[b + 1])`
 * of `seriesIds`, `ts` and `values`. Typed arrays, so they reach SQLite's writer thread without a copy.
 */
export interface BatchColumns {
  agentIds: string[];
  seqs: number[];
  offsets: Uint32Array;
  seriesIds: Float64Array;
  ts: Float64Array;
  values: Float64Array;
}

/** A chunk row to insert: one agent's samples of one hour, encoded. */
export interface EncodedChunk {
  agentId: string;
  hour: number;
  sampleCount: number;
  data: Buffer;
}

/** The batches' samples as columns, each with its series id (`ids[batch][sample]`); no `ts` means `collectedAt`. */
export function toColumns(
  batches: readonly {
    agentId: string;
    seq: number;
    collectedAt: number;
    samples: readonly { ts?: number; value: number }[];
  }[],
  ids: readonly (readonly number[])[],
): BatchColumns {
  let total = 0;
  for (const b of batches) total += b.samples.length;
  const columns: BatchColumns = {
    agentIds: batches.map((b) => b.agentId),
    seqs: batches.map((b) => b.seq),
    offsets: new Uint32Array(batches.length + 1),
    seriesIds: new Float64Array(total),
    ts: new Float64Array(total),
    values: new Float64Array(total),
  };
  let i = 0;
  for (let bi = 0; bi < batches.length; bi++) {
    const b = batches[bi];
    const row = ids[bi];
    columns.offsets[bi] = i;
    for (let si = 0; si < b.samples.length; si++, i++) {
      const s = b.samples[si];
      columns.seriesIds[i] = row[si];
      columns.ts[i] = s.ts ?? b.collectedAt;
      columns.values[i] = s.value;
    }
  }
  columns.offsets[batches.length] = i;
  return columns;
}

/** The chunks of the batches `stored(b)` says to keep: one per agent and hour, encoded. */
export function chunksOf(
  c: BatchColumns,
  stored: (batch: number) => boolean,
): { chunks: EncodedChunk[]; samples: number } {
  const groups = new Map<string, { agentId: string; hour: number; samples: ChunkSamples }>();
  let samples = 0;
  for (let bi = 0; bi < c.agentIds.length; bi++) {
    if (!stored(bi)) continue;
    const agentId = c.agentIds[bi];
    let group: { agentId: string; hour: number; samples: ChunkSamples } | undefined;
    for (let i = c.offsets[bi]; i < c.offsets[bi + 1]; i++) {
      const ts = c.ts[i];
      const hour = Math.floor(ts / HOUR_MS) * HOUR_MS;
      // A batch's samples are nearly always of one hour: one group look-up per batch.
      if (!group || group.hour !== hour) {
        const key = `${agentId}@${hour}`;
        group = groups.get(key);
        if (!group) groups.set(key, (group = { agentId, hour, samples: new ChunkSamples() }));
      }
      group.samples.push(c.seriesIds[i], ts, c.values[i]);
      samples++;
    }
  }
  const chunks: EncodedChunk[] = [];
  for (const g of groups.values())
    chunks.push({
      agentId: g.agentId,
      hour: g.hour,
      sampleCount: g.samples.length,
      data: encodeChunk(g.samples, g.hour),
    });
  return { chunks, samples };
}
