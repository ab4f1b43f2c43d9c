import { DeclaredMetric } from '../agent-type';

/** Every metric the Kubernetes agent reports; docs/agent.md and the dashboard read this table. */
export const kubernetesMetrics: DeclaredMetric[] = [
  { name: 'k8s.nodes', unit: '1', description: 'Nodes in the cluster (scope cluster only).' },
  { name: 'k8s.nodes.ready', unit: '1', description: 'Nodes whose Ready condition is True.' },
  { name: 'k8s.node.ready', unit: '1', description: '1 when the node is Ready, else 0; tag node.' },
  { name: 'k8s.node.cpu.capacity', unit: 'cores', description: 'CPU capacity; tag node.' },
  { name: 'k8s.node.cpu.allocatable', unit: 'cores', description: 'CPU allocatable to pods; tag node.' },
  { name: 'k8s.node.memory.capacity', unit: 'By', description: 'Memory capacity; tag node.' },
  { name: 'k8s.node.memory.allocatable', unit: 'By', description: 'Memory allocatable to pods; tag node.' },
  { name: 'k8s.node.pods.capacity', unit: '1', description: 'Pod capacity; tag node.' },
  { name: 'k8s.node.pods.allocatable', unit: '1', description: 'Pods allocatable; tag node.' },
  {
    name: 'k8s.pods',
    unit: '1',
    description: 'Pods per phase (Pending, Running, Succeeded, Failed, Unknown); tag phase.',
  },
  { name: 'k8s.pods.pending', unit: '1', description: 'Pods in phase Pending.' },
  {
    name: 'k8s.pods.crash_looping',
    unit: '1',
    description: 'Pods with a container waiting in CrashLoopBackOff.',
  },
  {
    name: 'k8s.containers.restarts',
    unit: '1',
    description: 'Container restarts summed over all watched pods.',
  },
  {
    name: 'k8s.pod.restarts',
    unit: '1',
    description: 'Container restarts of one pod, only for pods that restarted; tags namespace, pod.',
  },
  {
    name: 'k8s.pod.crash_looping',
    unit: '1',
    description: '1 for each crash-looping pod; tags namespace, pod, container.',
  },
];
