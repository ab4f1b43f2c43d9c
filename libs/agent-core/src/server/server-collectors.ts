import { loadavg, uptime } from 'node:os';
import type { Systeminformation } from 'systeminformation';
import { systemReadings as si } from './system-readings';
import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { NetworkRateTracker } from './network-rates';

/** Mount points reported per collection at most; a host with thousands of overlay mounts stays bounded. */
const MAX_MOUNTS = 64;
/** Interfaces reported per collection at most (container hosts grow one veth per container). */
const MAX_INTERFACES = 64;

const gauge = (name: string, value: number, unit: string, tags?: Record<string, string>): MetricSample => ({
  name,
  value,
  unit,
  ...(tags ? { tags } : {}),
});
const finite = (samples: MetricSample[]) => samples.filter((s) => Number.isFinite(s.value));
const percent = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0);

export class OsInfoCollector implements Collector {
  readonly name = 'os';
  /** The OS does not change under a running agent: probed once (several commands), kept while it succeeds. */
  private osInfo?: Promise<Systeminformation.OsData>;

  async collect(): Promise<MetricSample[]> {
    this.osInfo ??= si.osInfo().catch((error: unknown) => {
      this.osInfo = undefined;
      throw error;
    });
    const os = await this.osInfo;
    return finite([
      gauge('system.os.info', 1, '1', {
        platform: os.platform,
        distro: os.distro,
        release: os.release,
        kernel: os.kernel,
        arch: os.arch,
      }),
      // Not si.time(): it also resolves the time zone through Intl, which maps ~8 MB of ICU data and code
      // into the process for good, and runs `date` on every call.
      gauge('system.uptime', uptime(), 's'),
    ]);
  }
}

export class CpuCollector implements Collector {
  readonly name = 'cpu';
  async collect(): Promise<MetricSample[]> {
    // systeminformation measures busy time between successive calls, so each collection reports its own interval.
    const load = await si.currentLoad();
    const [l1, l5, l15] = loadavg();
    return finite([
      gauge('system.cpu.count', load.cpus.length, '1'),
      gauge('system.cpu.usage', load.currentLoad, '%'),
      gauge('system.cpu.load_1m', l1, '1'),
      gauge('system.cpu.load_5m', l5, '1'),
      gauge('system.cpu.load_15m', l15, '1'),
    ]);
  }
}

export class MemoryCollector implements Collector {
  readonly name = 'memory';
  async collect(): Promise<MetricSample[]> {
    const mem = await si.mem();
    // `active` is used memory without buffers/cache, the figure `free -h` shows as "used".
    return finite([
      gauge('system.memory.total', mem.total, 'By'),
      gauge('system.memory.used', mem.active, 'By'),
      gauge('system.memory.available', mem.available, 'By'),
      gauge('system.memory.usage', percent(mem.active, mem.total), '%'),
      gauge('system.swap.total', mem.swaptotal, 'By'),
      gauge('system.swap.used', mem.swapused, 'By'),
    ]);
  }
}

export class DiskCollector implements Collector {
  readonly name = 'disk';
  async collect(): Promise<MetricSample[]> {
    const filesystems = (await si.fsSize()).filter((fs) => fs.size > 0).slice(0, MAX_MOUNTS);
    return finite(
      filesystems.flatMap((fs) => {
        const tags = { mount: fs.mount, fs: fs.fs, type: fs.type };
        return [
          gauge('system.disk.total', fs.size, 'By', tags),
          gauge('system.disk.used', fs.used, 'By', tags),
          gauge('system.disk.available', fs.available, 'By', tags),
          // Like df: reserved blocks count as neither used nor available.
          gauge('system.disk.usage', percent(fs.used, fs.used + fs.available), '%', tags),
        ];
      }),
    );
  }
}

export class NetworkCollector implements Collector {
  readonly name = 'network';
  private readonly rates = new NetworkRateTracker();

  constructor(private readonly clock: () => number = Date.now) {}

  async collect(): Promise<MetricSample[]> {
    const stats = (await si.networkStats('*')).slice(0, MAX_INTERFACES);
    const at = this.clock();
    this.rates.retainOnly(stats.map((s) => s.iface));
    const samples: MetricSample[] = [];
    for (const s of stats) {
      const tags = { interface: s.iface };
      samples.push(gauge('system.network.rx_bytes', s.rx_bytes, 'By', tags));
      samples.push(gauge('system.network.tx_bytes', s.tx_bytes, 'By', tags));
      const rates = this.rates.update(s.iface, {
        at,
        rxBytes: s.rx_bytes,
        txBytes: s.tx_bytes,
        rxErrors: s.rx_errors,
        txErrors: s.tx_errors,
      });
      if (!rates) continue;
      samples.push(gauge('system.network.rx_rate', rates.rxBytesPerSecond, 'By/s', tags));
      samples.push(gauge('system.network.tx_rate', rates.txBytesPerSecond, 'By/s', tags));
      samples.push(gauge('system.network.rx_errors_rate', rates.rxErrorsPerSecond, '1/s', tags));
      samples.push(gauge('system.network.tx_errors_rate', rates.txErrorsPerSecond, '1/s', tags));
    }
    return finite(samples);
  }
}

export function createServerCollectors(): Collector[] {
  return [
    new OsInfoCollector(),
    new CpuCollector(),
    new MemoryCollector(),
    new DiskCollector(),
    new NetworkCollector(),
  ];
}
