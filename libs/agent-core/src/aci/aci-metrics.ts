import { DeclaredMetric } from '../agent-type';

/**
 * Every metric the ACI agent reports, all of the agent's own container (tags container_group,
 * container, cgroup_version). ACI gives a container no view of the other containers' cgroups (no
 * privileged mode, a cgroup namespace of its own), so none of theirs is reported.
 */
export const aciMetrics: DeclaredMetric[] = [
  {
    name: 'aci.container.cpu.time',
    unit: 's',
    description:
      'CPU time used by the container since it started (cgroup cpu.stat usage_usec / cpuacct.usage).',
  },
  {
    name: 'aci.container.cpu.usage',
    unit: 'cores',
    description:
      'CPU cores used on average since the previous reading (1 = one core); absent on the first reading and after the counter went back (a restarted container).',
  },
  {
    name: 'aci.container.cpu.limit',
    unit: 'cores',
    description: 'CPU cores the container may use (cpu.max / cfs quota ÷ period); absent when unlimited.',
  },
  {
    name: 'aci.container.memory.usage',
    unit: 'By',
    description:
      'Memory charged to the container, page cache included (memory.current / memory.usage_in_bytes).',
  },
  {
    name: 'aci.container.memory.working_set',
    unit: 'By',
    description: 'Memory usage minus inactive page cache (inactive_file), as the kubelet counts it.',
  },
  {
    name: 'aci.container.memory.limit',
    unit: 'By',
    description: 'Memory limit of the container (memory.max / memory.limit_in_bytes); absent when unlimited.',
  },
];
