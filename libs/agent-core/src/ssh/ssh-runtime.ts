/** Everything that loads ssh2; required lazily by ssh-agent-type.ts. */
export { SshJumpHostAgent, sshCredentials } from './ssh-agent';
export { SshTargetCollector } from './ssh-target-collector';
export { parseTargets } from './ssh-targets';
