import { DeclaredMetric } from '../agent-type';
import { serverMetrics } from '../server/server-metrics';

/**
 * The server metrics the ssh agent reports for each target (a target is a host like any other), each
 * with where ssh reads it from when that says more than the server's description (null: the server's
 * words hold). What /proc, uname and `df -P` can tell over SSH: no process list, no filesystem types
 * (POSIX df does not print them), no network error counters.
 */
const REPORTED_OVER_SSH: Record<string, string | null> = {
  'system.os.info': 'Always 1; tags carry platform (uname -s), kernel (uname -r) and arch (uname -m).',
  'system.uptime': 'Seconds since the target booted (/proc/uptime).',
  'system.cpu.count': 'Logical CPUs (/proc/stat).',
  'system.cpu.usage':
    'CPU busy time since the previous collection, all CPUs (from the second collection on).',
  'system.cpu.load_1m': 'Load average over 1 minute (/proc/loadavg).',
  'system.cpu.load_5m': 'Load average over 5 minutes.',
  'system.cpu.load_15m': 'Load average over 15 minutes.',
  'system.memory.total': 'Physical memory (/proc/meminfo).',
  'system.memory.used': 'MemTotal minus MemAvailable.',
  'system.memory.available': 'MemAvailable: memory available to new processes.',
  'system.memory.usage': null,
  'system.swap.total': null,
  'system.swap.used': null,
  'system.disk.total': 'Size of the filesystem (df -P); tags mount, fs.',
  'system.disk.used': 'Bytes used on the filesystem; tags mount, fs.',
  'system.disk.available': 'Bytes available to non-root users; tags mount, fs.',
  'system.disk.usage': 'used / (used + available); tags mount, fs.',
  'system.network.rx_bytes':
    'Bytes received since boot (counter, /proc/net/dev, loopback excluded); tag interface.',
  'system.network.tx_bytes': null,
  'system.network.rx_rate': null,
  'system.network.tx_rate': null,
};

/** Every metric the ssh agent reports, in the server table's order and units. */
export const sshMetrics: DeclaredMetric[] = serverMetrics
  .filter((metric) => metric.name in REPORTED_OVER_SSH)
  .map((metric) => ({ ...metric, description: REPORTED_OVER_SSH[metric.name] ?? metric.description }));
