import { MAX_SAMPLES_PER_BATCH, MetricSample, MetricsBatch } from '@app/contracts';
import { checkMetricsBatch } from '../../../../apps/ingestion/src/wire/agent-message-checks';
import { encodeBatches, MAX_BATCH_BYTES } from './metrics-batches';

const decode = (data: Uint8Array) => JSON.parse(Buffer.from(data).toString('utf8')) as MetricsBatch;
const counter = (start: number) => () => start++;

describe('encodeBatches', () => {
  it('sends a collection that fits one batch as that batch, byte for byte JSON.stringify of it', () => {
    const samples: MetricSample[] = [
      { name: 'a', value: 1, tags: { source: 'scrape', target: 'shop' }, ts: 5 },
      { name: 'b', value: 2.5, unit: 's' },
    ];
    const [batch, ...rest] = encodeBatches('ag_1', 1000, samples, counter(7));
    expect(rest).toEqual([]);
    expect(batch.seq).toBe(7);
    expect(Buffer.from(batch.data).toString('utf8')).toBe(
      JSON.stringify({ agentId: 'ag_1', seq: 7, collectedAt: 1000, samples }),
    );
  });

  it('still sends an empty collection as one empty batch', () => {
    const batches = encodeBatches('ag_1', 1000, [], counter(1));
    expect(batches.map((b) => decode(b.data))).toEqual([
      { agentId: 'ag_1', seq: 1, collectedAt: 1000, samples: [] },
    ]);
  });

  it('splits 12,000 samples into consecutive batches of at most MAX_SAMPLES_PER_BATCH, in order, each valid on the wire', () => {
    const collectedAt = Date.now();
    const samples = Array.from({ length: 12_000 }, (_, i) => ({
      name: 'm',
      value: i,
      tags: { i: String(i) },
    }));
    const batches = encodeBatches('ag_1', collectedAt, samples, counter(100));
    const decoded = batches.map((b) => decode(b.data));
    expect(decoded.map((b) => [b.seq, b.samples.length])).toEqual([
      [100, MAX_SAMPLES_PER_BATCH],
      [101, MAX_SAMPLES_PER_BATCH],
      [102, 12_000 - 2 * MAX_SAMPLES_PER_BATCH],
    ]);
    expect(decoded.flatMap((b) => b.samples)).toEqual(samples);
    for (const b of decoded) expect(checkMetricsBatch(b, collectedAt)).toMatchObject({ ok: true });
  });

  it('splits by bytes too, so no batch passes NATS max_payload however long the tags are', () => {
    const long = 'x'.repeat(900);
    const samples = Array.from({ length: 3000 }, (_, i) => ({
      name: 'm',
      value: i,
      tags: { a: long, b: long, c: `é${i}` },
    }));
    const batches = encodeBatches('ag_1', 1, samples, counter(1));
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(b.data.byteLength).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(batches.flatMap((b) => decode(b.data).samples)).toEqual(samples);
  });
});
