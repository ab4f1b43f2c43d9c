import { AgentTypeDefinition } from '../agent-type';
import { CloudRunAgent } from './cloud-run-agent';
import { CloudRunCgroupCollector } from './cloud-run-collectors';
import { CloudRunAgentConfig, cloudRunConfigSchema } from './cloud-run-config';
import { buildCloudRunDeployment } from './cloud-run-deployment';
import { MetadataServer } from './cloud-run-metadata';
import { cloudRunMetrics } from './cloud-run-metrics';

// No lazy load: cgroup files through node:fs and the metadata server through Node's own fetch.
export const cloudRunAgentType: AgentTypeDefinition<CloudRunAgentConfig> = {
  type: 'cloud-run',
  displayName: 'Google Cloud Run service',
  description:
    "A Cloud Run service, with the agent as a sidecar container (gcloud run services replace of a generated multi-container service): CPU time, cores used and limit, memory usage, working set and limit of the agent's own container from its cgroup, per instance, each instance named from the metadata server. Cloud Run shows no container the other containers' cgroups, so the app container's usage is not reported.",
  platforms: ['any'],
  configClass: CloudRunAgentConfig,
  configSchema: cloudRunConfigSchema,
  metrics: cloudRunMetrics,
  buildDeployment: buildCloudRunDeployment,
  createCollectors: (config) => [new CloudRunCgroupCollector(config.cgroup_root, config.service)],
  createAgent: (options, config) =>
    new CloudRunAgent(options, new MetadataServer(config.metadata_url), config.service),
};
