import { DeclaredMetric } from '../agent-type';

/** Every metric the server agent reports; docs/agent.md and the dashboard read this table. */
export const serverMetrics: DeclaredMetric[] = [
  {
    name: 'system.os.info',
    unit: '1',
    info: true,
    description: 'Always 1; tags carry platform, distro, release, kernel and arch.',
  },
  { name: 'system.uptime', unit: 's', description: 'Seconds since the host booted.' },
  { name: 'system.cpu.count', unit: '1', description: 'Logical CPUs.' },
  {
    name: 'system.cpu.usage',
    unit: '%',
    description: 'CPU busy time since the previous collection, all CPUs.',
  },
  { name: 'system.cpu.load_1m', unit: '1', description: 'Load average over 1 minute (0 on Windows).' },
  { name: 'system.cpu.load_5m', unit: '1', description: 'Load average over 5 minutes (0 on Windows).' },
  { name: 'system.cpu.load_15m', unit: '1', description: 'Load average over 15 minutes (0 on Windows).' },
  { name: 'system.memory.total', unit: 'By', description: 'Physical memory.' },
  { name: 'system.memory.used', unit: 'By', description: 'Memory in use, excluding buffers and page cache.' },
  { name: 'system.memory.available', unit: 'By', description: 'Memory available to new processes.' },
  { name: 'system.memory.usage', unit: '%', description: 'used / total.' },
  { name: 'system.swap.total', unit: 'By', description: 'Swap space.' },
  { name: 'system.swap.used', unit: 'By', description: 'Swap in use.' },
  { name: 'system.disk.total', unit: 'By', description: 'Size of the filesystem; tags mount, fs, type.' },
  {
    name: 'system.disk.used',
    unit: 'By',
    description: 'Bytes used on the filesystem; tags mount, fs, type.',
  },
  {
    name: 'system.disk.available',
    unit: 'By',
    description: 'Bytes available to non-root users; tags mount, fs, type.',
  },
  { name: 'system.disk.usage', unit: '%', description: 'used / (used + available); tags mount, fs, type.' },
  {
    name: 'system.network.rx_bytes',
    unit: 'By',
    description: 'Bytes received since boot (counter); tag interface.',
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
  {
    name: 'system.network.rx_errors_rate',
    unit: '1/s',
    description: 'Receive errors per second; tag interface.',
  },
  {
    name: 'system.network.tx_errors_rate',
    unit: '1/s',
    description: 'Transmit errors per second; tag interface.',
  },
];
