import { DeclaredMetric } from '../agent-type';

/**
 * Every metric the Cloud Run agent reports, all of the agent's own sidecar container (tags service,
 * container, cgroup_version). Cloud Run runs each container of an instance in a cgroup of its own and
 * gives a container no view of the others' (nor of the host), so the ingress container's usage is not
 * reported: Cloud Monitoring's container/cpu/utilizations has it.
 */
export const cloudRunMetrics: DeclaredMetric[] = [
  {
    name: 'cloudrun.container.cpu.time',
    unit: 's',
    description:
      'CPU time used by the agent container since it started (cgroup cpu.stat usage_usec / cpuacct.usage).',
  },
  {
    name: 'cloudrun.container.cpu.usage',
    unit: 'cores',
    description:
      'CPU cores used on average since the previous reading; absent on the first reading and after the counter went back.',
  },
  {
    name: 'cloudrun.container.cpu.limit',
    unit: 'cores',
    description: 'CPU cores the container may use (cpu.max / cfs quota ÷ period); absent when unlimited.',
  },
  {
    name: 'cloudrun.container.memory.usage',
    unit: 'By',
    description:
      'Memory charged to the container, page cache included (memory.current / memory.usage_in_bytes).',
  },
  {
    name: 'cloudrun.container.memory.working_set',
    unit: 'By',
    description: 'Memory usage minus inactive page cache (inactive_file).',
  },
  {
    name: 'cloudrun.container.memory.limit',
    unit: 'By',
    description: 'Memory limit of the container (memory.max / memory.limit_in_bytes); absent when unlimited.',
  },
];
