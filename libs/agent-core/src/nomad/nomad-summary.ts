import { MetricSample } from '@app/contracts';
import { NomadAllocationStub, NomadJobStub, NomadJobSummary, NomadNodeStub } from './nomad-api';

const MIB = 1024 * 1024;
const ALLOCATION_STATUSES = ['pending', 'running', 'complete', 'failed', 'lost', 'unknown'];
const NODE_STATUSES = ['initializing', 'ready', 'down', 'disconnected'];
const JOB_STATUSES = ['pending', 'running', 'dead'];
const SUMMARY_STATES = ['Queued', 'Starting', 'Running', 'Complete', 'Failed', 'Lost', 'Unknown'] as const;

const sample = (name: string, value: number, unit: string, tags?: Record<string, string>): MetricSample => ({
  name,
  value,
  unit,
  ...(tags ? { tags } : {}),
});

function countBy<T>(items: T[], key: (item: T) => string, known: string[]): Map<string, number> {
  const counts = new Map(known.map((k) => [k, 0]));
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** This node's own metrics: the agent of a system job reports the client it runs on. */
export function nodeSamples(
  nodeId: string,
  nodes: NomadNodeStub[],
  allocations: NomadAllocationStub[],
): MetricSample[] {
  const node = nodes.find((n) => n.ID === nodeId);
  if (!node) return [];
  const tags = { node: node.Name, datacenter: node.Datacenter, node_class: node.NodeClass ?? '' };
  const resources = node.NodeResources;
  const mine = allocations.filter((a) => a.NodeID === nodeId);
  const restarts = mine.reduce(
    (sum, a) => sum + Object.values(a.TaskStates ?? {}).reduce((s, t) => s + (t.Restarts ?? 0), 0),
    0,
  );
  return [
    sample('nomad.node.ready', node.Status === 'ready' ? 1 : 0, '1', tags),
    sample('nomad.node.eligible', node.SchedulingEligibility === 'eligible' && !node.Drain ? 1 : 0, '1'),
    ...(resources?.Cpu?.CpuShares !== undefined
      ? [sample('nomad.node.cpu.capacity', resources.Cpu.CpuShares, 'MHz')]
      : []),
    ...(resources?.Memory?.MemoryMB !== undefined
      ? [sample('nomad.node.memory.capacity', resources.Memory.MemoryMB * MIB, 'By')]
      : []),
    ...(resources?.Disk?.DiskMB !== undefined
      ? [sample('nomad.node.disk.capacity', resources.Disk.DiskMB * MIB, 'By')]
      : []),
    ...[...countBy(mine, (a) => a.ClientStatus, ALLOCATION_STATUSES)].map(([status, n]) =>
      sample('nomad.node.allocations', n, '1', { status }),
    ),
    sample('nomad.node.task.restarts', restarts, '1'),
  ];
}

/**
 * Whether this node's agent reports the cluster-wide metrics: the one on the ready node with the lowest
 * ID does, so a system job with one agent per node counts each job once, and another agent takes over
 * as soon as that node is no longer ready.
 */
export function reportsCluster(nodeId: string | undefined, nodes: NomadNodeStub[]): boolean {
  if (!nodeId) return true; // run outside the job (one agent): it is the only reporter
  const ready = nodes
    .filter((n) => n.Status === 'ready')
    .map((n) => n.ID)
    .sort();
  return ready[0] === nodeId;
}

export function clusterSamples(
  nodes: NomadNodeStub[],
  jobs: NomadJobStub[],
  summaries: NomadJobSummary[],
): MetricSample[] {
  const samples = [
    ...[...countBy(nodes, (n) => n.Status, NODE_STATUSES)].map(([status, n]) =>
      sample('nomad.nodes', n, '1', { status }),
    ),
    sample('nomad.nodes.ineligible', nodes.filter((n) => n.SchedulingEligibility !== 'eligible').length, '1'),
    ...[...countBy(jobs, (j) => j.Status, JOB_STATUSES)].map(([status, n]) =>
      sample('nomad.jobs', n, '1', { status }),
    ),
  ];
  for (const summary of [...summaries].sort((a, b) => a.JobID.localeCompare(b.JobID))) {
    for (const state of SUMMARY_STATES) {
      const total = Object.values(summary.Summary ?? {}).reduce((sum, group) => sum + (group[state] ?? 0), 0);
      samples.push(
        sample('nomad.job.allocations', total, '1', { job: summary.JobID, state: state.toLowerCase() }),
      );
    }
  }
  return samples;
}
