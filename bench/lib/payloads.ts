import { Heartbeat, MetricsBatch, MetricSample } from '@app/contracts';

/**
 * What a Server agent sends, shaped by the contracts DTOs so the byte counts are real:
 * a heartbeat with host identity and last-collection status, and a metrics batch of a
 * host's usual series (CPU, memory, load, per-disk and per-interface counters).
 */
export function heartbeat(agentId: string, sentAt = Date.now()): Heartbeat {
  return {
    agentId,
    sentAt,
    agentType: 'server',
    agentVersion: '0.1.0',
    uptimeSeconds: 86_400,
    intervalSeconds: 10,
    state: 'running',
    host: {
      hostname: `web-${agentId.slice(-6)}.prod.example.internal`,
      hostId: `b3c1f0e2a9d84c5e8f7a6b5c4d3e2f1${agentId.slice(-1)}`,
      os: 'linux',
      osVersion: 'Debian GNU/Linux 12 (bookworm)',
      arch: 'x64',
    },
    lastCollection: { ok: true, at: sentAt - 1200, durationMs: 38, samples: SAMPLES_PER_BATCH, errors: [] },
    buffered: 0,
    dropped: 0,
  };
}

/** Series a Server agent reports each interval (see libs/agent-core server collectors). */
const HOST_SERIES: { name: string; unit: string; tags?: Record<string, string> }[] = [
  { name: 'system.cpu.usage', unit: 'percent' },
  { name: 'system.cpu.user', unit: 'percent' },
  { name: 'system.cpu.system', unit: 'percent' },
  { name: 'system.cpu.iowait', unit: 'percent' },
  { name: 'system.load.1', unit: 'ratio' },
  { name: 'system.load.5', unit: 'ratio' },
  { name: 'system.load.15', unit: 'ratio' },
  { name: 'system.memory.used', unit: 'bytes' },
  { name: 'system.memory.available', unit: 'bytes' },
  { name: 'system.memory.usage', unit: 'percent' },
  { name: 'system.swap.used', unit: 'bytes' },
  ...['/', '/var', '/data'].flatMap((mount) => [
    { name: 'system.disk.used', unit: 'bytes', tags: { mount } },
    { name: 'system.disk.usage', unit: 'percent', tags: { mount } },
  ]),
  ...['eth0', 'eth1'].flatMap((iface) => [
    { name: 'system.network.rx_bytes', unit: 'bytes_per_second', tags: { interface: iface } },
    { name: 'system.network.tx_bytes', unit: 'bytes_per_second', tags: { interface: iface } },
    { name: 'system.network.rx_errors', unit: 'count', tags: { interface: iface } },
  ]),
  { name: 'system.processes.count', unit: 'count' },
  { name: 'system.uptime', unit: 'seconds' },
];

export const SAMPLES_PER_BATCH = HOST_SERIES.length;

export function metricsBatch(agentId: string, seq: number, collectedAt = Date.now()): MetricsBatch {
  const samples: MetricSample[] = HOST_SERIES.map((s, i) => ({
    name: s.name,
    value: Math.round((Math.sin(seq + i) + 1) * 5000) / 100,
    unit: s.unit,
    ...(s.tags ? { tags: s.tags } : {}),
  }));
  return { agentId, seq, collectedAt, samples };
}
