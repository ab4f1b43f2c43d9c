import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { CgroupReading, coresUsed, readCgroup } from '../collectors/cgroup-readings';

/** The name the generated container group gives the agent's container. */
export const AGENT_CONTAINER_NAME = 'rca-agent';

/** CPU and memory of the agent's own container from its cgroup (v1 or v2) under `root`. */
export class AciCgroupCollector implements Collector {
  readonly name = 'aci.cgroup';
  private previous?: { cpuSeconds: number; at: number };

  constructor(
    private readonly root: string,
    private readonly containerGroup: string,
    private readonly now: () => number = Date.now,
  ) {}

  async collect(): Promise<MetricSample[]> {
    const reading = readCgroup(this.root);
    const current = { cpuSeconds: reading.cpuSeconds, at: this.now() };
    const cores = coresUsed(this.previous, current);
    this.previous = current;
    return cgroupSamples(reading, cores, {
      container_group: this.containerGroup,
      container: AGENT_CONTAINER_NAME,
      cgroup_version: reading.version,
    });
  }
}

export function cgroupSamples(
  reading: CgroupReading,
  cores: number | undefined,
  tags: Record<string, string>,
): MetricSample[] {
  const sample = (name: string, value: number | undefined, unit: string): MetricSample[] =>
    value === undefined ? [] : [{ name, value, unit, tags }];
  return [
    ...sample('aci.container.cpu.time', reading.cpuSeconds, 's'),
    ...sample('aci.container.cpu.usage', cores, 'cores'),
    ...sample('aci.container.cpu.limit', reading.cpuLimitCores, 'cores'),
    ...sample('aci.container.memory.usage', reading.memoryBytes, 'By'),
    ...sample('aci.container.memory.working_set', reading.workingSetBytes, 'By'),
    ...sample('aci.container.memory.limit', reading.memoryLimitBytes, 'By'),
  ];
}
