import { BenchContext, median, quantile } from './harness';
import { cpuSeconds, ProcessSampler, rssBytes } from './process-sampler';

describe('bench harness', () => {
  it('reports the median with min and max of every figure, and its ratio to a baseline figure', () => {
    const ctx = new BenchContext('test', 3);
    for (const v of [10, 30, 20]) ctx.record('baseline rate', 'msg/s', v);
    for (const v of [5, 4, 6]) ctx.record('platform rate', 'msg/s', v, { baseline: 'baseline rate' });
    const [base, platform] = ctx.summaries();
    expect(base).toMatchObject({ median: 20, min: 10, max: 30, n: 3 });
    expect(platform).toMatchObject({ median: 5, min: 4, max: 6, ratio: 0.25 });
  });

  it('refuses a figure that is not a finite number', () => {
    expect(() => new BenchContext('test', 1).record('rate', 'msg/s', NaN)).toThrow(/non-finite/);
  });

  it('takes the mean of the two middle values for an even count and nearest-rank quantiles', () => {
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });
});

describe(ProcessSampler.name, () => {
  it('reports the CPU share the kernel accounted to the process, and its resident memory', async () => {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const sampler = new ProcessSampler(process.pid, 20).start();
    const until = Date.now() + 400;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    await new Promise((r) => setTimeout(r, 50));
    const usage = sampler.stop();
    const used = process.cpuUsage(cpuBefore);
    const expected = ((used.user + used.system) / 1000 / (performance.now() - wallBefore)) * 100;
    expect(x).toBeGreaterThan(0);
    // /proc counts in clock ticks (10 ms): allow a few ticks of difference over ~450 ms.
    expect(Math.abs(usage.cpuPercent - expected)).toBeLessThan(15);
    expect(usage.rssMaxBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(rssBytes(process.pid)).toBeGreaterThan(0);
    expect(cpuSeconds(process.pid)).toBeGreaterThan(0);
  });
});
