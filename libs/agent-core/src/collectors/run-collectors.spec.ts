import { MAX_SAMPLES_PER_BATCH, MetricSample } from '@app/contracts';
import { Collector, PartialCollectionError } from '../agent-type';
import { CollectorRunner, MAX_SAMPLES_PER_COLLECTION } from './run-collectors';

const fixed = (name: string, samples: MetricSample[]): Collector => ({ name, collect: async () => samples });
const hanging = (name: string): Collector => ({
  name,
  collect: () => new Promise<MetricSample[]>(() => undefined),
});

describe(CollectorRunner.name, () => {
  it('merges the samples of every collector and stamps them with the collection time', async () => {
    const runner = new CollectorRunner(
      [fixed('a', [{ name: 'a.one', value: 1 }]), fixed('b', [{ name: 'b.one', value: 2, ts: 5 }])],
      1000,
      () => 42,
    );
    const { samples, status } = await runner.collect();
    expect(samples).toEqual([
      { name: 'a.one', value: 1, ts: 42 },
      { name: 'b.one', value: 2, ts: 5 },
    ]);
    expect(status).toEqual({ ok: true, at: 42, durationMs: 0, samples: 2, errors: [] });
  });

  it('reports a collector that throws, synchronously or not, and keeps the others', async () => {
    const throwsSync: Collector = {
      name: 'sync',
      collect: () => {
        throw new Error('boom');
      },
    };
    const rejects: Collector = { name: 'async', collect: async () => Promise.reject(new Error('nope')) };
    const { samples, status } = await new CollectorRunner(
      [throwsSync, rejects, fixed('ok', [{ name: 'x', value: 1 }])],
      1000,
    ).collect();
    expect(samples.map((s) => s.name)).toEqual(['x']);
    expect(status.ok).toBe(false);
    expect(status.errors).toEqual([
      { collector: 'sync', error: 'boom' },
      { collector: 'async', error: 'nope' },
    ]);
  });

  it('times out a hanging collector, and does not start it again while it still hangs', async () => {
    const runner = new CollectorRunner([hanging('stuck'), fixed('ok', [{ name: 'x', value: 1 }])], 50);
    const first = await runner.collect();
    expect(first.samples).toHaveLength(1);
    expect(first.status.errors).toEqual([{ collector: 'stuck', error: 'timed out after 50 ms' }]);
    const second = await runner.collect();
    expect(second.status.errors).toEqual([
      { collector: 'stuck', error: 'still running since an earlier collection (hung)' },
    ]);
  });

  it('keeps the samples of a collector that failed partly and reports its error', async () => {
    const partial: Collector = {
      name: 'scrape:web',
      collect: async () =>
        Promise.reject(new PartialCollectionError('HTTP 500', [{ name: 'scrape.up', value: 0 }])),
    };
    const { samples, status } = await new CollectorRunner([partial], 1000, () => 7).collect();
    expect(samples).toEqual([{ name: 'scrape.up', value: 0, ts: 7 }]);
    expect(status.errors).toEqual([{ collector: 'scrape:web', error: 'HTTP 500' }]);
  });

  it('gives a collector with its own deadline that deadline instead of the runner-wide one', async () => {
    const slow: Collector = {
      name: 'slow',
      timeoutMs: 300,
      collect: () => new Promise((r) => setTimeout(() => r([{ name: 's', value: 1 }]), 100)),
    };
    const { samples, status } = await new CollectorRunner([slow], 20).collect();
    expect(status.errors).toEqual([]);
    expect(samples.map((s) => s.name)).toEqual(['s']);
  });

  it('keeps at most 100 errors, the heartbeat limit, and says how many more failed', async () => {
    const failing = Array.from({ length: 120 }, (_, i): Collector => ({
      name: `c${i}`,
      collect: async () => Promise.reject(new Error('down')),
    }));
    const { status } = await new CollectorRunner(failing, 1000).collect();
    expect(status.errors).toHaveLength(100);
    expect(status.errors[99]).toEqual({ collector: '(more)', error: '21 more collectors failed' });
  });

  it('keeps a collection larger than one batch whole: the publisher splits it', async () => {
    const many = Array.from({ length: 2 * MAX_SAMPLES_PER_BATCH }, (_, i) => ({ name: 'm', value: i }));
    const { samples, status } = await new CollectorRunner([fixed('big', many)], 1000).collect();
    expect(samples).toHaveLength(2 * MAX_SAMPLES_PER_BATCH);
    expect(status.errors).toEqual([]);
  });

  it('caps a collection at MAX_SAMPLES_PER_COLLECTION and says so', async () => {
    const many = Array.from({ length: MAX_SAMPLES_PER_COLLECTION + 10 }, (_, i) => ({ name: 'm', value: i }));
    const { samples, status } = await new CollectorRunner([fixed('big', many)], 1000).collect();
    expect(samples).toHaveLength(MAX_SAMPLES_PER_COLLECTION);
    expect(status.errors[0]).toEqual({
      collector: '(batch)',
      error: `${MAX_SAMPLES_PER_COLLECTION + 10} samples; kept the first ${MAX_SAMPLES_PER_COLLECTION}`,
    });
  });
});
