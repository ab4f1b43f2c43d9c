/**
 * Pure maths over the Docker Engine stats API (GET /containers/{id}/stats). Field names are the
 * API's; every field is optional because daemons differ (cgroup v1/v2, podman, Windows).
 */
export interface DockerCpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export interface DockerStatsJson {
  read?: string;
  cpu_stats?: DockerCpuStats;
  precpu_stats?: DockerCpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
  pids_stats?: { current?: number; limit?: number };
}

export interface ContainerUsage {
  /** Null when there is no earlier reading to compare with. */
  cpuPercent: number | null;
  memoryUsage: number | null;
  memoryLimit: number | null;
  memoryPercent: number | null;
  rxBytes: number;
  txBytes: number;
  blkioReadBytes: number;
  blkioWriteBytes: number;
  pids: number | null;
}

const usable = (cpu: DockerCpuStats | undefined): cpu is DockerCpuStats =>
  !!cpu &&
  typeof cpu.system_cpu_usage === 'number' &&
  cpu.system_cpu_usage > 0 &&
  typeof cpu.cpu_usage?.total_usage === 'number';

/**
 * CPU % between two readings, the way `docker stats` computes it: the container's share of the
 * host's CPU time, scaled by the number of CPUs (100 % = one CPU fully busy). `previous` is the
 * daemon's own `precpu_stats` when it filled it, otherwise the agent's last reading of the container.
 */
export function cpuPercent(
  previous: DockerCpuStats | undefined,
  current: DockerCpuStats | undefined,
): number | null {
  if (!usable(previous) || !usable(current)) return null;
  const cpuDelta = current.cpu_usage!.total_usage! - previous.cpu_usage!.total_usage!;
  const systemDelta = current.system_cpu_usage! - previous.system_cpu_usage!;
  // A reset counter (container restarted) or no time elapsed gives no meaningful figure.
  if (cpuDelta < 0 || systemDelta <= 0) return null;
  const cpus = current.online_cpus || current.cpu_usage?.percpu_usage?.length || 1;
  return (cpuDelta / systemDelta) * cpus * 100;
}

/**
 * Memory as `docker stats` shows it: usage minus the page cache that the kernel can drop
 * (`total_inactive_file` on cgroup v1, `inactive_file` on cgroup v2, `cache` on old daemons).
 */
export function memoryUsage(memory: DockerStatsJson['memory_stats']): number | null {
  if (!memory || typeof memory.usage !== 'number') return null;
  const stats = memory.stats ?? {};
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? stats.cache ?? 0;
  return cache < memory.usage ? memory.usage - cache : memory.usage;
}

function blkioBytes(stats: DockerStatsJson, op: 'read' | 'write'): number {
  // cgroup v1 reports "Read"/"Write", cgroup v2 "read"/"write".
  return (stats.blkio_stats?.io_service_bytes_recursive ?? [])
    .filter((entry) => entry.op?.toLowerCase() === op)
    .reduce((sum, entry) => sum + (entry.value ?? 0), 0);
}

/** Everything the agent reports for one container from one stats answer (plus its last CPU reading). */
export function containerUsage(stats: DockerStatsJson, previousCpu?: DockerCpuStats): ContainerUsage {
  const previous = usable(stats.precpu_stats) ? stats.precpu_stats : previousCpu;
  const used = memoryUsage(stats.memory_stats);
  const limit =
    typeof stats.memory_stats?.limit === 'number' && stats.memory_stats.limit > 0
      ? stats.memory_stats.limit
      : null;
  const networks = Object.values(stats.networks ?? {});
  return {
    cpuPercent: cpuPercent(previous, stats.cpu_stats),
    memoryUsage: used,
    memoryLimit: limit,
    memoryPercent: used !== null && limit !== null ? (used / limit) * 100 : null,
    rxBytes: networks.reduce((sum, n) => sum + (n.rx_bytes ?? 0), 0),
    txBytes: networks.reduce((sum, n) => sum + (n.tx_bytes ?? 0), 0),
    blkioReadBytes: blkioBytes(stats, 'read'),
    blkioWriteBytes: blkioBytes(stats, 'write'),
    pids: typeof stats.pids_stats?.current === 'number' ? stats.pids_stats.current : null,
  };
}
