import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { MetricSample } from '@app/contracts';
import { parseQuantity } from './quantity';

export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
/** Pods listed one by one (restarts, crash loops) at most; the counts still cover every pod. */
const MAX_PER_POD_SAMPLES = 200;

const sample = (name: string, value: number, unit: string, tags?: Record<string, string>): MetricSample => ({
  name,
  value,
  unit,
  ...(tags ? { tags } : {}),
});

export function isNodeReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Node readiness and capacity/allocatable figures from a node list. */
export function summarizeNodes(nodes: V1Node[]): MetricSample[] {
  const samples = [
    sample('k8s.nodes', nodes.length, '1'),
    sample('k8s.nodes.ready', nodes.filter(isNodeReady).length, '1'),
  ];
  for (const node of nodes) {
    const tags = { node: node.metadata?.name ?? '' };
    samples.push(sample('k8s.node.ready', isNodeReady(node) ? 1 : 0, '1', tags));
    const figures: [string, Record<string, string> | undefined, string, string][] = [
      ['k8s.node.cpu.capacity', node.status?.capacity, 'cpu', 'cores'],
      ['k8s.node.cpu.allocatable', node.status?.allocatable, 'cpu', 'cores'],
      ['k8s.node.memory.capacity', node.status?.capacity, 'memory', 'By'],
      ['k8s.node.memory.allocatable', node.status?.allocatable, 'memory', 'By'],
      ['k8s.node.pods.capacity', node.status?.capacity, 'pods', '1'],
      ['k8s.node.pods.allocatable', node.status?.allocatable, 'pods', '1'],
    ];
    for (const [name, resources, key, unit] of figures) {
      const value = parseQuantity(resources?.[key]);
      if (value !== null) samples.push(sample(name, value, unit, tags));
    }
  }
  return samples;
}

/** A pod crash-loops when one of its containers waits with reason CrashLoopBackOff. */
export function crashLoopingContainers(pod: V1Pod): string[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.filter((s) => s.state?.waiting?.reason === 'CrashLoopBackOff').map((s) => s.name);
}

export function podRestarts(pod: V1Pod): number {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
}

/** Pods per phase, pending and crash-looping pods, container restarts. */
export function summarizePods(pods: V1Pod[]): MetricSample[] {
  const phases: Record<string, number> = Object.fromEntries(POD_PHASES.map((p) => [p, 0]));
  let restarts = 0;
  const restarted: MetricSample[] = [];
  const looping: MetricSample[] = [];
  for (const pod of pods) {
    const phase = pod.status?.phase ?? 'Unknown';
    phases[phase] = (phases[phase] ?? 0) + 1;
    const tags = { namespace: pod.metadata?.namespace ?? '', pod: pod.metadata?.name ?? '' };
    const count = podRestarts(pod);
    restarts += count;
    if (count > 0) restarted.push(sample('k8s.pod.restarts', count, '1', tags));
    for (const container of crashLoopingContainers(pod)) {
      looping.push(sample('k8s.pod.crash_looping', 1, '1', { ...tags, container }));
    }
  }
  const crashLoopingPods = new Set(looping.map((s) => `${s.tags!.namespace}/${s.tags!.pod}`)).size;
  return [
    ...Object.entries(phases).map(([phase, count]) => sample('k8s.pods', count, '1', { phase })),
    sample('k8s.pods.pending', phases.Pending, '1'),
    sample('k8s.pods.crash_looping', crashLoopingPods, '1'),
    sample('k8s.containers.restarts', restarts, '1'),
    ...restarted.sort((a, b) => b.value - a.value).slice(0, MAX_PER_POD_SAMPLES),
    ...looping.slice(0, MAX_PER_POD_SAMPLES),
  ];
}
