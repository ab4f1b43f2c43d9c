import { DeclaredMetric } from '../agent-type';

/**
 * Every metric the Nomad agent reports. Per-node metrics come from every agent (one per client node);
 * cluster-wide ones only from the agent on the ready node with the lowest ID, so they are not counted
 * once per node.
 */
export const nomadMetrics: DeclaredMetric[] = [
  {
    name: 'nomad.node.ready',
    unit: '1',
    description: "1 when this agent's node is ready, else 0; tags node, datacenter, node_class.",
  },
  {
    name: 'nomad.node.eligible',
    unit: '1',
    description: '1 when the node is eligible for scheduling (not drained, not ineligible).',
  },
  { name: 'nomad.node.cpu.capacity', unit: 'MHz', description: "The node's CPU shares." },
  { name: 'nomad.node.memory.capacity', unit: 'By', description: "The node's memory." },
  { name: 'nomad.node.disk.capacity', unit: 'By', description: "The node's allocatable disk." },
  {
    name: 'nomad.node.allocations',
    unit: '1',
    description:
      "Allocations on this agent's node per client status (pending, running, complete, failed, lost, unknown); tag status.",
  },
  {
    name: 'nomad.node.task.restarts',
    unit: '1',
    description: 'Task restarts summed over the allocations on this node.',
  },
  {
    name: 'nomad.nodes',
    unit: '1',
    description:
      'Client nodes per status (initializing, ready, down, disconnected); tag status. Cluster-wide.',
  },
  {
    name: 'nomad.nodes.ineligible',
    unit: '1',
    description: 'Client nodes not eligible for scheduling. Cluster-wide.',
  },
  {
    name: 'nomad.jobs',
    unit: '1',
    description: 'Jobs per status (pending, running, dead); tag status. Cluster-wide.',
  },
  {
    name: 'nomad.job.allocations',
    unit: '1',
    description:
      'Allocations of one job per summary state (queued, starting, running, complete, failed, lost, unknown); tags job, state. Cluster-wide.',
  },
];
