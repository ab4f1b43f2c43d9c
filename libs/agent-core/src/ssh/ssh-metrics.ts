import { DeclaredMetric } from '../agent-type';

/**
 * Every metric the ssh agent reports for each target, named as the server type names them (a target
 * is a host like any other). What /proc, uname and `df -P` can tell over SSH; no process list, no
 * filesystem types (POSIX df does not print them), no network error counters.
 */
export const sshMetrics: DeclaredMetric[] = [
  {
    name: 'system.os.info',
    unit: '1',
    info: true,
    description: 'Always 1; tags carry platform (uname -s), kernel (uname -r) and arch (uname -m).',
  },
  { name: 'system.uptime', unit: 's', description: 'Seconds since the target booted (/proc/uptime).' },
  { name: 'system.cpu.count', unit: '1', description: 'Logical CPUs (/proc/stat).' },
  {
    name: 'system.cpu.usage',
    unit: '%',
    description: 'CPU busy time since the previous collection, all CPUs (from the second collection on).',
  },
  { name: 'system.cpu.load_1m', unit: '1', description: 'Load average over 1 minute (/proc/loadavg).' },
  { name: 'system.cpu.load_5m', unit: '1', description: 'Load average over 5 minutes.' },
  { name: 'system.cpu.load_15m', unit: '1', description: 'Load average over 15 minutes.' },
  { name: 'system.memory.total', unit: 'By', description: 'Physical memory (/proc/meminfo).' },
  { name: 'system.memory.used', unit: 'By', description: 'MemTotal minus MemAvailable.' },
  {
    name: 'system.memory.available',
    unit: 'By',
    description: 'MemAvailable: memory available to new processes.',
  },
  { name: 'system.memory.usage', unit: '%', description: 'used / total.' },
  { name: 'system.swap.total', unit: 'By', description: 'Swap space.' },
  { name: 'system.swap.used', unit: 'By', description: 'Swap in use.' },
  { name: 'system.disk.total', unit: 'By', description: 'Size of the filesystem (df -P); tags mount, fs.' },
  { name: 'system.disk.used', unit: 'By', description: 'Bytes used on the filesystem; tags mount, fs.' },
  {
    name: 'system.disk.available',
    unit: 'By',
    description: 'Bytes available to non-root users; tags mount, fs.',
  },
  { name: 'system.disk.usage', unit: '%', description: 'used / (used + available); tags mount, fs.' },
  {
    name: 'system.network.rx_bytes',
    unit: 'By',
    description: 'Bytes received since boot (counter, /proc/net/dev, loopback excluded); tag interface.',
  },
  {
    name: 'system.network.tx_bytes',
    unit: 'By',
    description: 'Bytes sent since boot (counter); tag interface.',
  },
  {
    name: 'system.network.rx_rate',
    unit: 'By/s',
    description: 'Bytes received per second since the previous collection; tag interface.',
  },
  {
    name: 'system.network.tx_rate',
    unit: 'By/s',
    description: 'Bytes sent per second since the previous collection; tag interface.',
  },
];
