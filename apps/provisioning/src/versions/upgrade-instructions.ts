import { AgentArtifacts, buildPosixInstallCommand, quotePosix } from '@app/agent-core';
import { AgentUpgrade } from '@app/contracts';

export interface UpgradeInput {
  platformUrl: string;
  natsUrl: string;
  agentImage: string;
  /** The platform CA's pin: the rewritten configuration must keep it. */
  caPin?: string;
  /** The build's SHA-256s: install.sh installs nothing it cannot verify. */
  artifacts?: AgentArtifacts;
}

/**
 * How each agent type is brought to the platform's build. Only the commands a person runs: the
 * platform does not execute anything on agent hosts. Each keeps the agent's state (its key and id)
 * where the type keeps it, so the upgraded agent resumes as the same agent. In place (one command that
 * does it all) only for the server type, whose installer replaces the program and restarts the service.
 */
export function upgradeInstructions(type: string, input: UpgradeInput): AgentUpgrade {
  const platform = input.platformUrl.replace(/\/+$/, '');
  switch (type) {
    case 'server':
      return {
        type,
        inPlace: true,
        // The install command itself, the token piped in from $RCA_TOKEN (never an argument of a process).
        command: buildPosixInstallCommand(
          {
            platformUrl: platform,
            natsUrl: input.natsUrl,
            config: { log_level: 'info' },
            caPin: input.caPin,
            artifacts: input.artifacts,
          },
          '"$RCA_TOKEN"',
        ),
        notes: [
          "Re-running the installer replaces the agent's program and restarts its service; its state directory (key, agent id) is kept, so it stays the same agent.",
          'Set RCA_TOKEN to an enrollment token of its environment (the installer requires one; it is not used while the state is kept).',
          'Windows: run the PowerShell install command from "Add an agent" again in an elevated PowerShell.',
        ],
      };
    case 'docker':
      return {
        type,
        inPlace: false,
        command: `docker pull ${quotePosix(input.agentImage)} && docker rm -f rca-agent`,
        notes: [
          'Then run the docker run command the agent was installed with again: the rca-agent-state volume keeps its key and agent id.',
          'Docker does not replace the image of a running container; pull + recreate is the upgrade.',
        ],
      };
    case 'kubernetes':
      return {
        type,
        inPlace: false,
        command: [
          'helm upgrade rca-agent rca-agent',
          '--repo',
          quotePosix(`${platform}/charts`),
          '--namespace rca-agent --reuse-values',
          '--set-string',
          quotePosix(`image.tag=${imageTag(input.agentImage)}`),
        ].join(' '),
        notes: [
          'Use the release name and namespace it was installed with (defaults: rca-agent, rca-agent).',
          "--reuse-values keeps the token Secret and settings; Kubernetes rolls the pod. With persistence enabled (the default) its volume keeps the agent's key and id; without it the new pod enrolls as a new agent.",
        ],
      };
    default:
      return {
        type,
        inPlace: false,
        command: '',
        notes: ['Install the agent again with the command from "Add an agent".'],
      };
  }
}

function imageTag(image: string): string {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

/** Numeric comparison of dotted versions (`0.10.0` > `0.9.1`); a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const [coreA, preA] = splitPre(a);
  const [coreB, preB] = splitPre(b);
  const partsA = coreA.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const partsB = coreB.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const diff = (partsA[i] ?? 0) - (partsB[i] ?? 0);
    if (diff) return Math.sign(diff);
  }
  if (preA === preB) return 0;
  if (!preA) return 1;
  if (!preB) return -1;
  return preA < preB ? -1 : 1;
}

function splitPre(version: string): [string, string] {
  const at = version.indexOf('-');
  return at < 0 ? [version, ''] : [version.slice(0, at), version.slice(at + 1)];
}
