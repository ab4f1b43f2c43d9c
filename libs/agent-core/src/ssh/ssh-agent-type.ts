import { AgentTypeDefinition } from '../agent-type';
import { SshAgentConfig, sshConfigSchema } from './ssh-config';
import { buildSshDeployment } from './ssh-deployment';
import { sshMetrics } from './ssh-metrics';

/** ssh2 (and its crypto bindings) loads only in an agent that runs this type. */
function runtime() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
  return require('./ssh-runtime') as typeof import('./ssh-runtime');
}

export const sshAgentType: AgentTypeDefinition<SshAgentConfig> = {
  type: 'ssh',
  displayName: 'SSH targets (agentless)',
  description:
    'Linux hosts without an agent, read over SSH from one agent on a jump host: uptime, load, CPU, memory, swap, disks and network from /proc and df. Each target is its own host in the fleet, with its own status. Host keys are pinned; the private key stays on the jump host. No per-process data, filesystem types or network error counters.',
  platforms: ['any'],
  configClass: SshAgentConfig,
  configSchema: sshConfigSchema,
  metrics: sshMetrics,
  buildDeployment: buildSshDeployment,
  // One collector per target, samples tagged `target`: what `rca-agent --once` prints.
  createCollectors: (config) => {
    const { parseTargets, SshTargetCollector, sshCredentials } = runtime();
    const credentials = sshCredentials(config);
    return parseTargets(config.targets).map(
      (target, i) => new SshTargetCollector(target, credentials, true, `ssh-${i + 1}`),
    );
  },
  createAgent: (options, config) => new (runtime().SshJumpHostAgent)(options, config),
};
