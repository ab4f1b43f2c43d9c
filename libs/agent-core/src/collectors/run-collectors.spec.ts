import { MAX_SAMPLES_PER_BATCH, MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { CollectorRunner } from './run-collectors';

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

  it('caps a batch at the wire limit and says so', async () => {
    const many = Array.from({ length: MAX_SAMPLES_PER_BATCH + 10 }, (_, i) => ({ name: 'm', value: i }));
    const { samples, status } = await new CollectorRunner([fixed('big', many)], 1000).collect();
    expect(samples).toHaveLength(MAX_SAMPLES_PER_BATCH);
    expect(status.errors[0].collector).toBe('(batch)');
  });
});
