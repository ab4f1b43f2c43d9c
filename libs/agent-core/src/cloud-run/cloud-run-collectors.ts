import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { coresUsed, readCgroup } from '../collectors/cgroup-readings';

/** The name the generated service gives the agent's sidecar container. */
export const AGENT_CONTAINER_NAME = 'rca-agent';

/** CPU and memory of the agent's own sidecar container from its cgroup (v1 or v2) under `root`. */
export class CloudRunCgroupCollector implements Collector {
  readonly name = 'cloudrun.cgroup';
  private previous?: { cpuSeconds: number; at: number };

  constructor(
    private readonly root: string,
    private readonly service: string,
    private readonly now: () => number = Date.now,
  ) {}

  async collect(): Promise<MetricSample[]> {
    const reading = readCgroup(this.root);
    const current = { cpuSeconds: reading.cpuSeconds, at: this.now() };
    const cores = coresUsed(this.previous, current);
    this.previous = current;
    const tags = { service: this.service, container: AGENT_CONTAINER_NAME, cgroup_version: reading.version };
    const sample = (name: string, value: number | undefined, unit: string): MetricSample[] =>
      value === undefined ? [] : [{ name, value, unit, tags }];
    return [
      ...sample('cloudrun.container.cpu.time', reading.cpuSeconds, 's'),
      ...sample('cloudrun.container.cpu.usage', cores, 'cores'),
      ...sample('cloudrun.container.cpu.limit', reading.cpuLimitCores, 'cores'),
      ...sample('cloudrun.container.memory.usage', reading.memoryBytes, 'By'),
      ...sample('cloudrun.container.memory.working_set', reading.workingSetBytes, 'By'),
      ...sample('cloudrun.container.memory.limit', reading.memoryLimitBytes, 'By'),
    ];
  }
}
