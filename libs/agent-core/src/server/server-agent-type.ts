import { AgentTypeDefinition } from '../agent-type';
import { ServerAgent } from './server-agent';
import { createServerCollectors } from './server-collectors';
import { ServerAgentConfig, serverConfigSchema } from './server-config';
import { buildServerDeployment } from './server-deployment';
import { serverMetrics } from './server-metrics';

export const serverAgentType: AgentTypeDefinition<ServerAgentConfig> = {
  type: 'server',
  displayName: 'Server',
  description: 'A Linux, macOS or Windows host: CPU, memory, disks, network and uptime.',
  platforms: ['linux', 'macos', 'windows'],
  configClass: ServerAgentConfig,
  configSchema: serverConfigSchema,
  metrics: serverMetrics,
  buildDeployment: buildServerDeployment,
  createCollectors: () => createServerCollectors(),
  createAgent: (options) => new ServerAgent(options),
};
