import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { HostIdentity } from '@app/contracts';
import { AgentExitCodes, AgentFatalError } from '../agent-exit-codes';
import { AgentOptions, BaseAgent } from '../base-agent';
import { TargetReading } from './proc-readings';
import { SshAgentConfig } from './ssh-config';
import { SshCredentials } from './ssh-session';
import { SshTargetCollector } from './ssh-target-collector';
import { parseFingerprints, parseTargets, SshTarget } from './ssh-targets';

/**
 * Collections in a row a target may fail before its agent stops heartbeating (so the platform marks
 * it offline after its liveness timeout). One failure is tolerated: a single dropped connection is noise.
 */
export const FAILURES_BEFORE_OFFLINE = 2;

export function sshCredentials(config: SshAgentConfig): SshCredentials {
  return {
    privateKeyPath: config.private_key_path,
    knownHostsPath: config.known_hosts_path,
    fingerprints: parseFingerprints(config.host_key_fingerprints),
    timeoutMs: config.ssh_timeout_seconds * 1000,
  };
}

/** The registry identity of a target: its own machine id, prefixed so it never collides with a server agent on it. */
export function targetHostIdentity(target: SshTarget, reading: TargetReading): HostIdentity {
  return {
    hostname: reading.hostname || target.host,
    hostId: `ssh-${reading.machineId ?? target.address}`,
    os: reading.kernel.name || 'linux',
    osVersion: reading.kernel.release || undefined,
    arch: reading.kernel.arch || undefined,
  };
}

/** One target as the platform sees it: an ordinary agent whose host is the target, not the jump host. */
class SshTargetAgent extends BaseAgent {
  constructor(
    options: AgentOptions,
    private readonly target: HostIdentity,
  ) {
    super(options);
  }

  protected override async describeHost(): Promise<HostIdentity> {
    return this.target;
  }
}

/** Directory name of a target's identity: stable, readable, safe on every file system. */
const stateDirName = (target: SshTarget) =>
  `${target.user}@${target.address}`.replace(/[^A-Za-z0-9._@-]/g, '_');

/**
 * Keeps one SshTargetAgent running per reachable target. A target that stops answering has its
 * agent stopped (its status then goes offline through the platform's ordinary liveness) and is
 * probed every collect interval until it answers again, when its agent resumes with its saved identity.
 */
class TargetSupervisor {
  private agent?: BaseAgent;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Set when the target's agent ended for good (revoked, token refused): it is not restarted. */
  private givenUp = false;
  private lastLogged?: string;

  constructor(
    private readonly collector: SshTargetCollector,
    private readonly options: AgentOptions,
  ) {}

  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (!this.stopped && !this.givenUp)
      this.timer = setTimeout(() => void this.tick(), this.options.collectIntervalSeconds * 1000);
  }

  private async tick(): Promise<void> {
    const log = this.options.logger;
    if (this.agent) {
      if (this.collector.consecutiveFailures >= FAILURES_BEFORE_OFFLINE) {
        log.warn(
          { reason: this.collector.lastError },
          'target unreachable: its agent stops until it answers again',
        );
        const agent = this.agent;
        this.agent = undefined;
        // Not a clean stop: the target went away, so the platform must see it offline, not `stopped`.
        await agent.stopSilently();
      }
      return this.schedule();
    }
    let reading: TargetReading;
    try {
      reading = await this.collector.probe();
    } catch (error) {
      const reason = (error as Error).message;
      if (reason !== this.lastLogged) log.warn({ reason }, 'target not collected');
      this.lastLogged = reason;
      return this.schedule();
    }
    this.lastLogged = undefined;
    if (this.stopped) return; // stopped while the probe was in flight: start nothing new
    const agent = new SshTargetAgent(this.options, targetHostIdentity(this.collector.target, reading));
    this.agent = agent;
    void agent.exited.then((code) => {
      if (code !== AgentExitCodes.ok && this.agent === agent) {
        this.agent = undefined;
        this.givenUp = true;
        log.error({ exitCode: code }, 'the agent of this target ended; the other targets go on');
      }
    });
    try {
      await agent.start();
    } catch (error) {
      this.agent = undefined;
      this.givenUp = error instanceof AgentFatalError;
      log.error(
        { err: error },
        this.givenUp ? 'the agent of this target cannot run' : 'target agent failed to start',
      );
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.agent?.stop();
  }
}

/**
 * The jump-host process: no identity of its own, one per target (state under
 * `<stateDir>/targets/<user@target>/`), so each target has its own key, JWT, status and metrics
 * with no new platform code. One target failing never touches the others.
 */
export class SshJumpHostAgent extends BaseAgent {
  private readonly supervisors: TargetSupervisor[];

  constructor(
    options: AgentOptions,
    private readonly config: SshAgentConfig,
  ) {
    super(options);
    const credentials = sshCredentials(config);
    this.supervisors = parseTargets(config.targets).map((target) => {
      // The target's agent collects with the same collector its supervisor probes with.
      const collector = new SshTargetCollector(target, credentials);
      return new TargetSupervisor(collector, {
        ...options,
        logger: options.logger.child({ target: target.address }),
        collectors: [collector],
        stateDir: join(options.stateDir, 'targets', stateDirName(target)),
        labels: { ...options.labels, ssh_target: target.address },
      });
    });
  }

  override async start(): Promise<void> {
    try {
      accessSync(this.config.private_key_path, constants.R_OK);
    } catch (error) {
      throw new AgentFatalError(
        AgentExitCodes.badConfig,
        `cannot read the SSH private key ${this.config.private_key_path} (private_key_path): ${(error as Error).message}`,
      );
    }
    this.log.info(
      { targets: this.supervisors.length },
      'collecting from SSH targets, one agent identity each',
    );
    for (const supervisor of this.supervisors) supervisor.start();
  }

  override async stop(): Promise<void> {
    await Promise.all(this.supervisors.map((supervisor) => supervisor.stop()));
    await super.stop();
  }
}
