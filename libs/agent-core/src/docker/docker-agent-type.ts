import { AgentTypeDefinition } from '../agent-type';
import { DockerAgentConfig, dockerConfigSchema } from './docker-config';
import { buildDockerDeployment } from './docker-deployment';
import { dockerMetrics } from './docker-metrics';

/** dockerode pulls in gRPC and ssh2 (~10 MB of RSS): only a running Docker agent loads it. */
function runtime() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
  return require('./docker-runtime') as typeof import('./docker-runtime');
}

export const dockerAgentType: AgentTypeDefinition<DockerAgentConfig> = {
  type: 'docker',
  displayName: 'Docker host',
  description:
    'A Docker Engine: daemon, containers by state, and CPU, memory, network and block I/O per running container.',
  platforms: ['any'],
  configClass: DockerAgentConfig,
  configSchema: dockerConfigSchema,
  metrics: dockerMetrics,
  buildDeployment: buildDockerDeployment,
  // docker_host wins; else the standard DOCKER_HOST; else /var/run/docker.sock.
  createCollectors: (config, { environment, collectIntervalSeconds = 10 }) =>
    runtime().createDockerCollectors(
      config.docker_host ?? environment.DOCKER_HOST,
      config.scrape_containers === 'on' ? { collectIntervalSeconds } : undefined,
    ),
  createAgent: (options, config, { environment }) =>
    new (runtime().DockerAgent)(options, config.docker_host ?? environment.DOCKER_HOST),
};
