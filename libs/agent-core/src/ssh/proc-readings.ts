import { MetricSample } from '@app/contracts';

/**
 * What one SSH command prints on the target: sections from /proc, uname and POSIX `df`, each after
 * an `@@<name>` line. One round trip per collection; nothing is installed on the target.
 */
export const COLLECT_SCRIPT = [
  'echo @@hostname; cat /proc/sys/kernel/hostname',
  'echo @@machine-id; cat /etc/machine-id 2>/dev/null',
  'echo @@uname; uname -s -r -m',
  'echo @@uptime; cat /proc/uptime',
  'echo @@loadavg; cat /proc/loadavg',
  "echo @@stat; grep '^cpu' /proc/stat",
  'echo @@meminfo; cat /proc/meminfo',
  'echo @@df; df -P -k 2>/dev/null',
  'echo @@netdev; cat /proc/net/dev',
].join('; ');

/** Bounds per collection, as for the server type: hosts with many mounts or veths stay bounded. */
const MAX_MOUNTS = 64;
const MAX_INTERFACES = 64;
/** Filesystems that are not storage: memory, kernel views and container layers. */
const PSEUDO_FILESYSTEMS = new Set(['tmpfs', 'devtmpfs', 'udev', 'overlay', 'shm', 'none', 'proc', 'sysfs']);
const PSEUDO_MOUNTS = /^\/(dev|run|sys|proc)(\/|$)/;

export interface CpuTimes {
  total: number;
  /** idle + iowait: time the CPUs had nothing to run. */
  idle: number;
}

export interface InterfaceCounters {
  rxBytes: number;
  txBytes: number;
}

/** One parsed answer of COLLECT_SCRIPT. */
export interface TargetReading {
  /** Milliseconds since the epoch, jump-host clock, when the answer arrived. */
  at: number;
  hostname: string;
  machineId?: string;
  kernel: { name: string; release: string; arch: string };
  uptimeSeconds: number;
  load: [number, number, number];
  cpuCount: number;
  cpu: CpuTimes;
  memory: Record<'total' | 'available' | 'swapTotal' | 'swapFree', number>;
  disks: { fs: string; mount: string; total: number; used: number; available: number }[];
  interfaces: Map<string, InterfaceCounters>;
}

export class UnreadableTargetError extends Error {}

function sections(output: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const header = /^@@([a-z-]+)$/.exec(line);
    if (header) found.set(header[1], (current = []));
    else if (current && line.trim()) current.push(line);
  }
  return found;
}

const numbers = (line: string) => line.trim().split(/\s+/).map(Number);

function meminfo(lines: string[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of lines) {
    const m = /^(\w+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) values.set(m[1], Number(m[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return values;
}

/** Parses COLLECT_SCRIPT's output; throws UnreadableTargetError when the target has no Linux /proc. */
export function parseReading(output: string, at: number): TargetReading {
  const s = sections(output);
  const need = (name: string) => {
    const lines = s.get(name);
    if (!lines?.length) throw new UnreadableTargetError(`the target printed no ${name} (not a Linux /proc?)`);
    return lines;
  };
  const [uname = ''] = s.get('uname') ?? [];
  const [kernelName = 'Linux', release = '', arch = ''] = uname.trim().split(/\s+/);
  const cpuLines = need('stat');
  const [, ...times] = cpuLines[0].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal; guest time is already inside user and nice.
  const busyAndIdle = times.slice(0, 8).reduce((a, b) => a + b, 0);
  const mem = meminfo(need('meminfo'));
  const total = mem.get('MemTotal') ?? 0;
  const available =
    mem.get('MemAvailable') ??
    (mem.get('MemFree') ?? 0) + (mem.get('Buffers') ?? 0) + (mem.get('Cached') ?? 0);

  const disks: TargetReading['disks'] = [];
  for (const line of (s.get('df') ?? []).slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [fs, blocks, used, free] = fields;
    const mount = fields.slice(5).join(' ');
    if (PSEUDO_FILESYSTEMS.has(fs) || PSEUDO_MOUNTS.test(mount) || Number(blocks) === 0) continue;
    disks.push({
      fs,
      mount,
      total: Number(blocks) * 1024,
      used: Number(used) * 1024,
      available: Number(free) * 1024,
    });
  }
  const interfaces = new Map<string, InterfaceCounters>();
  for (const line of s.get('netdev') ?? []) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const counters = numbers(m[2]);
    interfaces.set(m[1], { rxBytes: counters[0], txBytes: counters[8] });
  }
  const load = numbers(need('loadavg')[0]).slice(0, 3) as [number, number, number];
  return {
    at,
    hostname: (s.get('hostname')?.[0] ?? '').trim(),
    machineId: s.get('machine-id')?.[0]?.trim() || undefined,
    kernel: { name: kernelName.toLowerCase(), release, arch },
    uptimeSeconds: numbers(need('uptime')[0])[0],
    load,
    cpuCount: cpuLines.filter((line) => /^cpu\d+\s/.test(line)).length,
    cpu: { total: busyAndIdle, idle: (times[3] ?? 0) + (times[4] ?? 0) },
    memory: { total, available, swapTotal: mem.get('SwapTotal') ?? 0, swapFree: mem.get('SwapFree') ?? 0 },
    disks: disks.slice(0, MAX_MOUNTS),
    interfaces: new Map([...interfaces].slice(0, MAX_INTERFACES)),
  };
}

/** A counter that went down was reset: its growth is the new value (as Prometheus' rate() takes it). */
const increase = (previous: number, current: number) => (current >= previous ? current - previous : current);
const percent = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0);
const gauge = (name: string, value: number, unit: string, tags?: Record<string, string>): MetricSample => ({
  name,
  value,
  unit,
  ...(tags ? { tags } : {}),
});

/**
 * The samples of one reading, named as the server type names them so a target looks like any host.
 * CPU usage and network rates need the previous reading of the same target; without it they are absent.
 */
export function readingSamples(current: TargetReading, previous?: TargetReading): MetricSample[] {
  const { memory } = current;
  const used = memory.total - memory.available;
  const samples: MetricSample[] = [
    gauge('system.os.info', 1, '1', {
      platform: current.kernel.name,
      kernel: current.kernel.release,
      arch: current.kernel.arch,
    }),
    gauge('system.uptime', current.uptimeSeconds, 's'),
    gauge('system.cpu.count', current.cpuCount, '1'),
    gauge('system.cpu.load_1m', current.load[0], '1'),
    gauge('system.cpu.load_5m', current.load[1], '1'),
    gauge('system.cpu.load_15m', current.load[2], '1'),
    gauge('system.memory.total', memory.total, 'By'),
    gauge('system.memory.used', used, 'By'),
    gauge('system.memory.available', memory.available, 'By'),
    gauge('system.memory.usage', percent(used, memory.total), '%'),
    gauge('system.swap.total', memory.swapTotal, 'By'),
    gauge('system.swap.used', memory.swapTotal - memory.swapFree, 'By'),
  ];
  if (previous) {
    const total = increase(previous.cpu.total, current.cpu.total);
    const idle = increase(previous.cpu.idle, current.cpu.idle);
    if (total > 0) samples.push(gauge('system.cpu.usage', percent(total - idle, total), '%'));
  }
  for (const disk of current.disks) {
    const tags = { mount: disk.mount, fs: disk.fs };
    samples.push(
      gauge('system.disk.total', disk.total, 'By', tags),
      gauge('system.disk.used', disk.used, 'By', tags),
      gauge('system.disk.available', disk.available, 'By', tags),
      gauge('system.disk.usage', percent(disk.used, disk.used + disk.available), '%', tags),
    );
  }
  const seconds = previous ? (current.at - previous.at) / 1000 : 0;
  for (const [name, counters] of current.interfaces) {
    const tags = { interface: name };
    samples.push(
      gauge('system.network.rx_bytes', counters.rxBytes, 'By', tags),
      gauge('system.network.tx_bytes', counters.txBytes, 'By', tags),
    );
    const before = previous?.interfaces.get(name);
    if (before && seconds > 0) {
      samples.push(
        gauge('system.network.rx_rate', increase(before.rxBytes, counters.rxBytes) / seconds, 'By/s', tags),
        gauge('system.network.tx_rate', increase(before.txBytes, counters.txBytes) / seconds, 'By/s', tags),
      );
    }
  }
  return samples.filter((sample) => Number.isFinite(sample.value));
}
