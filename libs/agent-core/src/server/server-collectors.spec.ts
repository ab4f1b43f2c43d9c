import { cpus, totalmem, uptime } from 'node:os';
import { MetricSample } from '@app/contracts';
import { agentTypes } from '../builtin-agent-types';
import {
  CpuCollector,
  DiskCollector,
  MemoryCollector,
  NetworkCollector,
  OsInfoCollector,
} from './server-collectors';

const valueOf = (samples: MetricSample[], name: string, tags: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(tags).every(([k, v]) => s.tags?.[k] === v))?.value;

/** Real readings of this machine, checked against what Node itself reports. */
describe('server collectors on this machine', () => {
  it('detects the operating system and its uptime', async () => {
    const samples = await new OsInfoCollector().collect();
    expect(samples.find((s) => s.name === 'system.os.info')!.tags).toMatchObject({
      platform: process.platform,
    });
    expect(valueOf(samples, 'system.uptime')).toBeGreaterThan(0);
  });

  it('reports the same OS on every collection and an uptime that advances with the clock', async () => {
    const collector = new OsInfoCollector();
    const first = await collector.collect();
    await new Promise((r) => setTimeout(r, 1100));
    const second = await collector.collect();
    const info = (samples: MetricSample[]) => samples.find((s) => s.name === 'system.os.info')!.tags;
    expect(info(second)).toEqual(info(first));
    expect(valueOf(second, 'system.uptime')! - valueOf(first, 'system.uptime')!).toBeGreaterThanOrEqual(1);
    expect(Math.abs(valueOf(second, 'system.uptime')! - uptime())).toBeLessThan(5);
  });

  it('reports CPU count, a usage percentage and load averages', async () => {
    const samples = await new CpuCollector().collect();
    expect(valueOf(samples, 'system.cpu.count')).toBe(cpus().length);
    expect(valueOf(samples, 'system.cpu.usage')).toBeGreaterThanOrEqual(0);
    expect(valueOf(samples, 'system.cpu.usage')).toBeLessThanOrEqual(100);
    expect(valueOf(samples, 'system.cpu.load_1m')).toBeGreaterThanOrEqual(0);
  });

  it('reports total memory equal to what the kernel says, and used below it', async () => {
    const samples = await new MemoryCollector().collect();
    expect(valueOf(samples, 'system.memory.total')).toBe(totalmem());
    expect(valueOf(samples, 'system.memory.used')).toBeLessThan(totalmem());
    expect(valueOf(samples, 'system.memory.usage')).toBeGreaterThan(0);
  });

  it('reports the root filesystem with consistent sizes', async () => {
    const samples = await new DiskCollector().collect();
    const mounts = samples.filter((s) => s.name === 'system.disk.total').map((s) => s.tags!.mount);
    expect(mounts.length).toBeGreaterThan(0);
    const mount = mounts.includes('/') ? '/' : mounts[0];
    const total = valueOf(samples, 'system.disk.total', { mount })!;
    expect(valueOf(samples, 'system.disk.used', { mount })!).toBeLessThanOrEqual(total);
    expect(valueOf(samples, 'system.disk.usage', { mount })!).toBeLessThanOrEqual(100);
  });

  it('reports counters on the first collection and per-second rates from the second', async () => {
    const collector = new NetworkCollector();
    const first = await collector.collect();
    expect(first.some((s) => s.name === 'system.network.rx_bytes')).toBe(true);
    expect(first.some((s) => s.name === 'system.network.rx_rate')).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    const second = await collector.collect();
    const rates = second.filter((s) => s.name === 'system.network.rx_rate');
    expect(rates.length).toBeGreaterThan(0);
    expect(rates.every((s) => s.value >= 0 && s.unit === 'By/s')).toBe(true);
  });

  it('only reports metrics its type declares', async () => {
    const declared = new Set(
      agentTypes
        .types()
        .find((t) => t.type === 'server')!
        .metrics.map((m) => m.name),
    );
    const collectors = agentTypes.createCollectors('server', {});
    const names = (await Promise.all(collectors.map((c) => c.collect()))).flat().map((s) => s.name);
    expect(names.filter((n) => !declared.has(n))).toEqual([]);
  });
});
