import { AgentTypeDefinition } from '../agent-type';
import { NomadAgent } from './nomad-agent';
import { NomadAgentConfig, nomadConfigSchema } from './nomad-config';
import { NomadCollector, nomadApi } from './nomad-collectors';
import { buildNomadDeployment } from './nomad-deployment';
import { nomadMetrics } from './nomad-metrics';

// No lazy load: the Nomad API is plain HTTP through Node's own fetch, with no dependency to defer.
export const nomadAgentType: AgentTypeDefinition<NomadAgentConfig> = {
  type: 'nomad',
  displayName: 'Nomad cluster',
  description:
    'A HashiCorp Nomad cluster, as a system job (one agent per client node): node status, eligibility and resources, allocations by status and task restarts per node, and cluster-wide node, job and job-summary counts, from the Nomad HTTP API with an ACL token. No per-allocation CPU or memory usage.',
  platforms: ['any'],
  configClass: NomadAgentConfig,
  configSchema: nomadConfigSchema,
  metrics: nomadMetrics,
  buildDeployment: buildNomadDeployment,
  createCollectors: (config) => [new NomadCollector(nomadApi(config), config.nomad_node_id)],
  createAgent: (options, config) => new NomadAgent(options, nomadApi(config), config.nomad_node_id),
};
