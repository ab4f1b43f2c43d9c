import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { DeploymentCommand } from '@app/contracts';
import { Deployment, DeploymentInput } from '../agent-type';
import { quotePosix, quotePowerShell } from '../deployment/shell-quoting';
import { ServerAgentConfig } from './server-config';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * Linux and macOS, per docs/deploy-contract.md: the script is downloaded to a temporary file and the token
 * piped into it (`printf` is a shell builtin), so the token is never an argument of a process that `ps` or
 * /proc shows. The script cannot come on standard input too, hence the file instead of `curl … | sh -s`.
 * `tokenWord` is the shell word printed: the quoted token, or e.g. `"$RCA_TOKEN"` in upgrade instructions.
 */
export function buildPosixInstallCommand(
  input: Pick<
    DeploymentInput<ServerAgentConfig>,
    'platformUrl' | 'natsUrl' | 'config' | 'caPin' | 'artifacts'
  >,
  tokenWord: string,
): string {
  const script = `${trimSlash(input.platformUrl)}/install.sh`;
  const args = [
    '--token-file -',
    '--nats-url',
    quotePosix(input.natsUrl),
    '--platform-url',
    quotePosix(input.platformUrl),
    '--log-level',
    quotePosix(input.config.log_level),
    ...(input.caPin ? ['--ca-pin', quotePosix(input.caPin)] : []),
    // Pinned here, in the command the user pastes, not fetched beside the file over the same channel.
    ...(input.artifacts ? ['--bundle-sha256', quotePosix(input.artifacts.bundle.sha256)] : []),
    ...(input.artifacts?.binaries['linux-x64']
      ? ['--binary-sha256', quotePosix(input.artifacts.binaries['linux-x64'].sha256)]
      : []),
  ];
  return [
    `(f=$(mktemp) && trap 'rm -f "$f"' EXIT && curl -fsSL ${quotePosix(script)} -o "$f" &&`,
    `printf '%s\\n' ${tokenWord} | sudo sh "$f" ${args.join(' ')})`,
  ].join(' ');
}

/** A one-liner for an elevated PowerShell, per docs/deploy-contract.md. */
export function buildPowerShellInstallCommand(input: DeploymentInput<ServerAgentConfig>): string {
  const script = `${trimSlash(input.platformUrl)}/install.ps1`;
  return [
    `& ([scriptblock]::Create((Invoke-RestMethod ${quotePowerShell(script)})))`,
    '-Token',
    quotePowerShell(input.enrollmentToken),
    '-NatsUrl',
    quotePowerShell(input.natsUrl),
    '-PlatformUrl',
    quotePowerShell(input.platformUrl),
    '-LogLevel',
    quotePowerShell(input.config.log_level),
    ...(input.caPin ? ['-CaPin', quotePowerShell(input.caPin)] : []),
    ...(input.artifacts ? ['-BundleSha256', quotePowerShell(input.artifacts.bundle.sha256)] : []),
  ].join(' ');
}

export function buildServerDeployment(input: DeploymentInput<ServerAgentConfig>): Deployment {
  const posix = buildPosixInstallCommand(input, quotePosix(input.enrollmentToken));
  const commands: DeploymentCommand[] = [
    { platform: 'linux', shell: 'sh', command: posix },
    { platform: 'macos', shell: 'sh', command: posix },
    { platform: 'windows', shell: 'powershell', command: buildPowerShellInstallCommand(input) },
  ];
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  return {
    commands,
    warnings: [
      ...(loopback.length
        ? [
            `The platform advertises loopback URLs (${loopback.join(', ')}): this command works only on the platform's own host. For other servers, ${SET_PUBLIC_URLS}.`,
          ]
        : []),
      ...(input.artifacts
        ? []
        : [
            'This platform has no agent build (npm run build:agent): the command cannot pin the SHA-256 of the agent, and the install script refuses to install an agent it cannot verify.',
          ]),
    ],
    instructions: [
      'Linux or macOS: open a terminal on the server as a user that may run sudo.',
      'Linux or macOS: paste the sh command (it downloads install.sh to a temporary file and pipes the enrollment token into it, so the token is no argument of any process); the install script downloads the agent (a self-contained executable on Linux x64, otherwise a bundle run by Node.js 20+), checks its SHA-256 against the one in the command, writes its configuration (root-only) and starts it as a service (systemd on Linux, as the system user rca-agent; launchd on macOS).',
      'Windows: open PowerShell with "Run as administrator" and paste the PowerShell command; the agent is installed as a Windows service running as its virtual account NT SERVICE\\rca-agent, in a folder closed to other local users.',
      `Within a minute the agent appears as online in environment "${input.environment}" in the fleet view.`,
      'The enrollment token is only needed for the first start: the agent then has a key of its own (generated on the server, never sent anywhere) and renews its access with it.',
    ],
  };
}
