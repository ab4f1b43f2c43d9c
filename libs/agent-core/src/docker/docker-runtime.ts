/** Everything that loads dockerode; required lazily by docker-agent-type.ts. */
export { createDockerCollectors } from './docker-collectors';
export { DockerAgent } from './docker-agent';
