import { AgentTypeDefinition } from '../agent-type';
import { AciAgent } from './aci-agent';
import { AciAgentConfig, aciConfigSchema } from './aci-config';
import { AciCgroupCollector } from './aci-collectors';
import { buildAciDeployment } from './aci-deployment';
import { aciMetrics } from './aci-metrics';

// No lazy load: the collector reads cgroup files with node:fs, no dependency to defer.
export const aciAgentType: AgentTypeDefinition<AciAgentConfig> = {
  type: 'aci',
  displayName: 'Azure Container Instances',
  description:
    "An Azure container group, with the agent as one of its containers (az container create): CPU time, cores used and limit, memory usage, working set and limit of the agent's own container from its cgroup (v1 or v2). ACI shows no container the other containers' cgroups, so their usage is not reported.",
  platforms: ['any'],
  configClass: AciAgentConfig,
  configSchema: aciConfigSchema,
  metrics: aciMetrics,
  buildDeployment: buildAciDeployment,
  createCollectors: (config) => [new AciCgroupCollector(config.cgroup_root, config.container_group)],
  createAgent: (options, config) =>
    new AciAgent(options, { resourceGroup: config.resource_group, containerGroup: config.container_group }),
};
