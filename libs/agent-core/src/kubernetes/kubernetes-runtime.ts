/** Everything that loads @kubernetes/client-node; required lazily by kubernetes-agent-type.ts. */
export { createKubernetesCollectors, loadKubeConfig } from './kubernetes-collectors';
export { KubernetesAgent } from './kubernetes-agent';
