import type { KubeConfig } from '@kubernetes/client-node';
import { AgentTypeDefinition } from '../agent-type';
import { KubernetesAgentConfig, kubernetesConfigSchema } from './kubernetes-config';
import { buildKubernetesDeployment } from './kubernetes-deployment';
import { kubernetesMetrics } from './kubernetes-metrics';

/**
 * @kubernetes/client-node adds ~50 MB of RSS when loaded, so only a running Kubernetes agent loads it
 * (server and Docker agents, and the platform services, never do).
 */
function runtime() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
  return require('./kubernetes-runtime') as typeof import('./kubernetes-runtime');
}

const kubeConfigs = new Map<string, KubeConfig>();
/** One KubeConfig per process, shared by the agent's identity lookup and its collectors. */
function kubeConfig(inCluster: boolean): KubeConfig {
  const key = String(inCluster);
  if (!kubeConfigs.has(key)) kubeConfigs.set(key, runtime().loadKubeConfig(inCluster));
  return kubeConfigs.get(key)!;
}

export const kubernetesAgentType: AgentTypeDefinition<KubernetesAgentConfig> = {
  type: 'kubernetes',
  displayName: 'Kubernetes cluster',
  description:
    'A Kubernetes cluster via Helm: node readiness and capacity, pods by phase, restarts, pending and crash-looping pods.',
  platforms: ['any'],
  configClass: KubernetesAgentConfig,
  configSchema: kubernetesConfigSchema,
  metrics: kubernetesMetrics,
  buildDeployment: buildKubernetesDeployment,
  // In a pod the API server's address is injected as KUBERNETES_SERVICE_HOST: use the service account.
  createCollectors: (config, { environment, collectIntervalSeconds }) =>
    runtime().createKubernetesCollectors(
      config,
      kubeConfig(Boolean(environment.KUBERNETES_SERVICE_HOST)),
      collectIntervalSeconds,
    ),
  createAgent: (options, config, { environment }) =>
    new (runtime().KubernetesAgent)(
      options,
      kubeConfig(Boolean(environment.KUBERNETES_SERVICE_HOST)),
      config.namespace,
      config.replicas,
    ),
};
