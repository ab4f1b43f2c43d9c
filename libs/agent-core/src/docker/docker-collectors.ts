import Docker from 'dockerode';
import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { DiscoveredTargetsCollector } from '../app-metrics/discovered-targets-collector';
import { containerUsage, DockerCpuStats, DockerStatsJson } from './container-stats';
import { scrapeTargetOfContainer } from './labelled-containers';

/** States the Engine API defines; each is reported (0 included) so a dashboard sees a stable series. */
export const CONTAINER_STATES = [
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
] as const;
/** Stats requests in flight at once: one per container would open hundreds of sockets on a busy host. */
const STATS_CONCURRENCY = 8;
/** Containers whose stats are read per collection at most; the batch stays under MAX_SAMPLES_PER_BATCH. */
const MAX_CONTAINERS = 500;

/** `unix:///run/docker.sock`, `tcp://h:2375`, `https://h:2376` → dockerode options. Undefined: /var/run/docker.sock. */
export function dockerClientOptions(dockerHost: string | undefined): Docker.DockerOptions {
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('npipe://')) return { socketPath: dockerHost.slice('npipe://'.length) };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return {
    host: url.hostname,
    port: Number(url.port) || (url.protocol === 'https:' ? 2376 : 2375),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  };
}

export class DockerDaemonCollector implements Collector {
  readonly name = 'docker.daemon';
  constructor(private readonly docker: Docker) {}

  async collect(): Promise<MetricSample[]> {
    const info = (await this.docker.info()) as Record<string, unknown>;
    const str = (key: string) => (typeof info[key] === 'string' ? (info[key] as string) : '');
    const num = (key: string) => (typeof info[key] === 'number' ? (info[key] as number) : 0);
    return [
      {
        name: 'docker.daemon.info',
        value: 1,
        unit: '1',
        tags: {
          server_version: str('ServerVersion'),
          os: str('OperatingSystem'),
          kernel: str('KernelVersion'),
          storage_driver: str('Driver'),
          cgroup_version: str('CgroupVersion'),
        },
      },
      { name: 'docker.daemon.cpus', value: num('NCPU'), unit: '1' },
      { name: 'docker.daemon.memory', value: num('MemTotal'), unit: 'By' },
      { name: 'docker.images', value: num('Images'), unit: '1' },
    ];
  }
}

/** Counts containers per state. */
export function countByState(containers: { State?: string }[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(CONTAINER_STATES.map((s) => [s, 0]));
  for (const c of containers) {
    const state = (c.State ?? 'unknown').toLowerCase();
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

export class DockerContainersCollector implements Collector {
  readonly name = 'docker.containers';
  constructor(private readonly docker: Docker) {}

  async collect(): Promise<MetricSample[]> {
    const containers = await this.docker.listContainers({ all: true });
    return Object.entries(countByState(containers)).map(([state, count]) => ({
      name: 'docker.containers',
      value: count,
      unit: '1',
      tags: { state },
    }));
  }
}

/** Samples for one container from one stats answer; exported for the golden-file tests. */
export function containerSamples(
  stats: DockerStatsJson,
  tags: Record<string, string>,
  previousCpu?: DockerCpuStats,
): MetricSample[] {
  const usage = containerUsage(stats, previousCpu);
  const samples: MetricSample[] = [];
  const add = (name: string, value: number | null, unit: string) => {
    if (value !== null && Number.isFinite(value)) samples.push({ name, value, unit, tags });
  };
  add('docker.container.cpu.usage', usage.cpuPercent, '%');
  add('docker.container.memory.usage', usage.memoryUsage, 'By');
  add('docker.container.memory.limit', usage.memoryLimit, 'By');
  add('docker.container.memory.percent', usage.memoryPercent, '%');
  add('docker.container.network.rx_bytes', usage.rxBytes, 'By');
  add('docker.container.network.tx_bytes', usage.txBytes, 'By');
  add('docker.container.blkio.read_bytes', usage.blkioReadBytes, 'By');
  add('docker.container.blkio.write_bytes', usage.blkioWriteBytes, 'By');
  add('docker.container.pids', usage.pids, '1');
  return samples;
}

/** Per running container: CPU, memory, network and block I/O from the stats API. */
export class DockerStatsCollector implements Collector {
  readonly name = 'docker.stats';
  /** Last CPU reading per container id, so one-shot stats (no precpu) still give a CPU %. */
  private readonly lastCpu = new Map<string, DockerCpuStats>();

  constructor(private readonly docker: Docker) {}

  async collect(): Promise<MetricSample[]> {
    const running = (await this.docker.listContainers({ all: false })).slice(0, MAX_CONTAINERS);
    const ids = new Set(running.map((c) => c.Id));
    for (const id of this.lastCpu.keys()) if (!ids.has(id)) this.lastCpu.delete(id);

    const samples: MetricSample[] = [];
    for (let i = 0; i < running.length; i += STATS_CONCURRENCY) {
      const chunk = running.slice(i, i + STATS_CONCURRENCY);
      const results = await Promise.allSettled(
        chunk.map(async (c) => {
          // one-shot: answer at once instead of waiting a second to fill precpu_stats; we keep our own.
          const stats = (await this.docker
            .getContainer(c.Id)
            .stats({ stream: false, 'one-shot': true })) as unknown as DockerStatsJson;
          const tags = {
            container: c.Id.slice(0, 12),
            name: (c.Names?.[0] ?? '').replace(/^\//, ''),
            image: c.Image,
          };
          const out = containerSamples(stats, tags, this.lastCpu.get(c.Id));
          if (stats.cpu_stats) this.lastCpu.set(c.Id, stats.cpu_stats);
          return out;
        }),
      );
      // A container that stopped between list and stats is not an error of the collector.
      for (const r of results) if (r.status === 'fulfilled') samples.push(...r.value);
    }
    return samples;
  }
}

export function createDockerCollectors(
  dockerHost: string | undefined,
  scrape?: { collectIntervalSeconds: number },
): Collector[] {
  const docker = new Docker(dockerClientOptions(dockerHost));
  const collectors: Collector[] = [
    new DockerDaemonCollector(docker),
    new DockerContainersCollector(docker),
    new DockerStatsCollector(docker),
  ];
  if (scrape)
    collectors.push(
      new DiscoveredTargetsCollector(
        'scrape:docker-containers',
        'containers',
        async () =>
          (
            await docker.listContainers({
              filters: { label: ['prometheus.io/scrape=true'], status: ['running'] },
            })
          ).flatMap((c) => scrapeTargetOfContainer(c) ?? []),
        scrape.collectIntervalSeconds,
      ),
    );
  return collectors;
}
