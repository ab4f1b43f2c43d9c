import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

/** `host` or `host:port`; an IPv6 address in brackets (`[::1]:2222`). */
const HOST_PORT = String.raw`(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,252}))(:[0-9]{1,5})?`;
const TARGET = String.raw`[A-Za-z0-9._][A-Za-z0-9._-]{0,31}@${HOST_PORT}`;
/** OpenSSH's fingerprint form: `SHA256:` and the unpadded base64 of the key's SHA-256 (43 characters). */
const FINGERPRINT = String.raw`${HOST_PORT}=SHA256:[A-Za-z0-9+/]{43}`;
const list = (item: string) => new RegExp(`^${item}(,${item})*$`);

export const SSH_TARGETS_PATTERN = list(TARGET);
export const SSH_FINGERPRINTS_PATTERN = list(FINGERPRINT);
/** An absolute path on the jump host, without characters a shell or an env file would act on. */
export const JUMP_HOST_PATH_PATTERN = /^\/[A-Za-z0-9._/@+-]{1,400}$/;

const TARGETS_RULE = 'user@host or user@host:port, separated by commas';
const FINGERPRINTS_RULE = 'host[:port]=SHA256:<43 base64 characters>, separated by commas';
const PATH_RULE = 'an absolute path (letters, digits and . _ / @ + -)';

export const DEFAULT_SSH_KEY_PATH = '/etc/rca-agent/ssh/id_ed25519';
export const DEFAULT_KNOWN_HOSTS_PATH = '/etc/rca-agent/ssh/known_hosts';

export class SshAgentConfig extends CommonAgentConfig {
  /** The hosts the jump-host agent collects from; each is reported as its own agent. */
  @MaxLength(4000)
  @Matches(SSH_TARGETS_PATTERN, { message: `targets must be ${TARGETS_RULE}` })
  targets!: string;

  /** The private key on the jump host. Only this path travels through the platform, never the key. */
  @Matches(JUMP_HOST_PATH_PATTERN, { message: `private_key_path must be ${PATH_RULE}` })
  private_key_path: string = DEFAULT_SSH_KEY_PATH;

  /** OpenSSH known_hosts file on the jump host (plain or hashed entries). */
  @Matches(JUMP_HOST_PATH_PATTERN, { message: `known_hosts_path must be ${PATH_RULE}` })
  known_hosts_path: string = DEFAULT_KNOWN_HOSTS_PATH;

  /** Pins that win over known_hosts for their target. */
  @IsOptional()
  @MaxLength(8000)
  @Matches(SSH_FINGERPRINTS_PATTERN, { message: `host_key_fingerprints must be ${FINGERPRINTS_RULE}` })
  host_key_fingerprints?: string = undefined;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60)
  ssh_timeout_seconds: number = 5;
}

export const sshConfigSchema: ConfigFieldSchema[] = [
  ...commonConfigSchema,
  {
    name: 'targets',
    type: 'string',
    description:
      'Hosts to collect from over SSH, as user@host[:port] separated by commas (port 22 by default). Each becomes its own agent in the fleet view.',
    required: true,
    pattern: SSH_TARGETS_PATTERN.source,
    patternDescription: TARGETS_RULE,
  },
  {
    name: 'private_key_path',
    type: 'string',
    description:
      'Path of the SSH private key on the jump host (unencrypted, OpenSSH or PEM format). The key never leaves the jump host.',
    required: false,
    default: DEFAULT_SSH_KEY_PATH,
    pattern: JUMP_HOST_PATH_PATTERN.source,
    patternDescription: PATH_RULE,
  },
  {
    name: 'known_hosts_path',
    type: 'string',
    description:
      "Path of an OpenSSH known_hosts file on the jump host pinning each target's host key (ssh-keyscan output works). A target with no pin is refused, never trusted on first use.",
    required: false,
    default: DEFAULT_KNOWN_HOSTS_PATH,
    pattern: JUMP_HOST_PATH_PATTERN.source,
    patternDescription: PATH_RULE,
  },
  {
    name: 'host_key_fingerprints',
    type: 'string',
    description:
      'Host key pins that win over known_hosts: host[:port]=SHA256:… (as ssh-keygen -lf prints) separated by commas.',
    required: false,
    pattern: SSH_FINGERPRINTS_PATTERN.source,
    patternDescription: FINGERPRINTS_RULE,
  },
  {
    name: 'ssh_timeout_seconds',
    type: 'integer',
    description: 'Seconds to wait for a target to connect and answer before it counts as unreachable.',
    required: false,
    default: 5,
    minimum: 1,
    maximum: 60,
  },
];
