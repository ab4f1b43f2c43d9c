import { randomUUID } from 'node:crypto';
import { Logger } from 'pino';
import { CollectionStatus, Heartbeat, HostIdentity, MetricsBatch } from '@app/contracts';
import { AgentExitCodes, AgentFatalError } from './agent-exit-codes';
import { Collector } from './agent-type';
import { CollectorRunner } from './collectors/run-collectors';
import { defaultHostIdentity } from './host-identity';
import { AgentStatements, AgentJwt, DomainError, ErrorCodes, signStatement } from '@app/contracts';
import { KeyPair } from 'nkeys.js';
import { AgentKeyStore } from './transport/agent-key-store';
import { AgentSequence } from './transport/agent-sequence';
import { AgentState, AgentStateStore } from './transport/agent-state-store';
import { AgentIdentity, AgentWire } from './transport/agent-wire';
import { HttpAgentWire } from './transport/http-agent-wire';
import { JwtRenewer } from './transport/jwt-renewer';
import { NatsAgentWire } from './transport/nats-agent-wire';
import { enrollWithRetry } from './transport/enrollment';
import { PlatformClient } from './transport/platform-client';
import { resolvePlatformCa } from './transport/platform-trust';
import { DEFAULT_BUFFER_LIMITS, MetricsBufferLimits } from './transport/metrics-buffer';
import { MetricsPublisher } from './transport/metrics-publisher';
import { AGENT_VERSION } from './version';
import { ParsedAppMetrics } from './app-metrics/app-metrics-sections';
import { AppMetricsSources } from './app-metrics/app-metrics-sources';
import {
  RemoteConfigSync,
  resolveRuntimeSettings,
  RuntimeSettings,
  withLabels,
} from './remote-config/remote-config';

/** Shutdown budget: flush the buffer for at most this long, then drain the connection. */
const STOP_FLUSH_TIMEOUT_MS = 3000;
const STOP_DRAIN_TIMEOUT_MS = 2000;
/**
 * Per-collector timeout: 80 % of the interval, but at least 3 s (a first reading can be slow:
 * systeminformation probes the CPUs on its first call) and at most 10 s.
 */
export function collectorTimeoutMs(collectIntervalSeconds: number): number {
  return Math.min(Math.max(collectIntervalSeconds * 800, 3000), 10_000);
}
/** Heartbeat spacing varies by ±10 % so a fleet restarted together does not beat in lockstep. */
const HEARTBEAT_JITTER = 0.1;
/** Over HTTP nothing is pushed: the agent asks for its config this often (a cheap signed request). */
const HTTP_CONFIG_POLL_MS = 5 * 60_000;
/** After a reconnect the config fetch waits up to this long, so a fleet reconnecting together is spread out. */
const CONFIG_FETCH_SPREAD_MS = 2000;

export interface AgentOptions {
  agentType: string;
  /** `nats` (default) or `http` (the gateway's intake at `platformUrl`). */
  transport?: 'nats' | 'http';
  natsUrl: string;
  /** Gateway base URL: enrollment, JWT renewal, and the intake with transport `http`. */
  platformUrl?: string;
  /** Needed only until the agent has enrolled once (state.json and agent.nk then identify it). */
  enrollmentToken?: string;
  /** CA certificate file to trust for NATS TLS and HTTPS (RCA_CA_FILE). */
  caFile?: string;
  /** Pin of the platform CA (`sha256:…`, RCA_CA_PIN): fetched from the platform and checked. */
  caPin?: string;
  stateDir: string;
  heartbeatIntervalSeconds: number;
  collectIntervalSeconds: number;
  labels?: Record<string, string>;
  logger: Logger;
  collectors: Collector[];
  /**
   * Application-metrics sources from the agent's own settings (RCA_SCRAPE_TARGETS, …); remote
   * configuration's `app_metrics` sections replace them section by section, live.
   */
  appMetrics?: ParsedAppMetrics;
  /** In-process plugins from RCA_PLUGIN_DIR (PluginCollector): always run, whatever remote configuration says. */
  plugins?: (Collector & { close?(): void })[];
  bufferLimits?: MetricsBufferLimits;
  /** Per collector per collection; default collectorTimeoutMs(collectIntervalSeconds). */
  collectorTimeoutMs?: number;
  rpcTimeoutMs?: number;
  clock?: () => number;
  random?: () => number;
}

/** Options a caller gives; the registry adds the type and its collectors. */
export type AgentRuntimeOptions = Omit<AgentOptions, 'agentType' | 'collectors'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** True when `p` settled in time; a rejection counts as done (shutdown goes on regardless). */
const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    sleep(ms).then(() => false),
  ]);

/**
 * The lifecycle every agent type shares: connect, enroll once (state.json), heartbeat loop,
 * collection loop with a bounded outage buffer, revocation and clean shutdown. A type subclasses
 * it only to describe its host better; what it measures comes from its collectors.
 */
export class BaseAgent {
  lastCollection?: CollectionStatus;
  /** Resolves with the process exit code once the agent has fully stopped. */
  readonly exited: Promise<number>;

  protected readonly log: Logger;
  private readonly store: AgentStateStore;
  private readonly keys: AgentKeyStore;
  private key?: KeyPair;
  private platform?: PlatformClient;
  private renewer?: JwtRenewer;
  private readonly runner: CollectorRunner;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly startedAt: number;
  private resolveExited!: (code: number) => void;
  private wire?: AgentWire;
  private identity?: AgentIdentity;
  private state?: AgentState;
  private publisher?: MetricsPublisher;
  private host?: HostIdentity;
  /** Used as host id when the host has no machine id; kept in state.json from enrollment on. */
  private generatedHostId?: string;
  private heartbeatTimer?: NodeJS.Timeout;
  private collectTimer?: NodeJS.Timeout;
  private configPollTimer?: NodeJS.Timeout;
  private stopping?: Promise<void>;
  /** What remote configuration may change; starts as the options (`baseline`) and returns to them. */
  private settings: RuntimeSettings;
  private readonly baseline: RuntimeSettings;
  private remoteConfig?: RemoteConfigSync;
  private collectStartedAt = 0;
  private collecting = false;
  private readonly appMetrics: AppMetricsSources;

  constructor(protected readonly options: AgentOptions) {
    this.log = options.logger;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.startedAt = this.clock();
    this.store = new AgentStateStore(options.stateDir);
    this.keys = new AgentKeyStore(options.stateDir);
    const timeout = options.collectorTimeoutMs ?? collectorTimeoutMs(options.collectIntervalSeconds);
    this.appMetrics = new AppMetricsSources(options.appMetrics ?? {}, options.collectIntervalSeconds);
    this.runner = new CollectorRunner(
      [...options.collectors, ...this.appMetrics.collectors(), ...(options.plugins ?? [])],
      timeout,
      this.clock,
    );
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.baseline = {
      logLevel: this.log.level as RuntimeSettings['logLevel'],
      heartbeatIntervalSeconds: options.heartbeatIntervalSeconds,
      collectIntervalSeconds: options.collectIntervalSeconds,
      collectors: null,
      labels: {},
      appMetrics: {},
    };
    this.settings = { ...this.baseline };
  }

  /** The settings running now and the remote config version they come from (0: start-up settings). */
  runtimeSettings(): RuntimeSettings & { configVersion: number } {
    return { ...this.settings, configVersion: this.remoteConfig?.version ?? 0 };
  }

  /**
   * Enrolls over HTTP (or reuses state.json and agent.nk), connects as its own NATS user, and starts
   * both loops and JWT renewal. Rejects with AgentFatalError.
   */
  async start(): Promise<void> {
    const saved = this.store.load();
    if (saved?.revokedAt) {
      throw new AgentFatalError(
        AgentExitCodes.revoked,
        `this agent was revoked at ${saved.revokedAt}; delete ${this.store.file} and install with a new enrollment token`,
      );
    }
    const savedKey = this.keys.load();
    const enrolled = saved && savedKey ? saved : null;
    if (!enrolled && !this.options.enrollmentToken) {
      throw new AgentFatalError(
        AgentExitCodes.badConfig,
        `no enrollment token (RCA_TOKEN) and no saved identity in ${this.options.stateDir}`,
      );
    }
    if (!this.options.platformUrl) {
      throw new AgentFatalError(
        AgentExitCodes.badConfig,
        'RCA_PLATFORM_URL is required (enrollment and renewal)',
      );
    }
    const ca = await this.trust();

    this.state = enrolled ?? (await this.enroll(this.options.enrollmentToken!));
    this.key = enrolled ? savedKey! : this.keys.load()!;
    const { agentId, environment } = this.state;
    this.identity = { agentId, environment };
    this.renewer = new JwtRenewer({
      identity: this.identity,
      key: this.key,
      platform: this.platform!,
      log: this.log,
      clock: this.clock,
      random: this.random,
      current: () => ({ jwt: this.state!.jwt, expiresAt: this.state!.jwtExpiresAt }),
      save: (jwt: AgentJwt) => this.saveState({ jwt: jwt.jwt, jwtExpiresAt: jwt.expiresAt }),
      onRevoked: (reason) => void this.revoked(reason),
    });
    this.wire = await this.openWire(ca);
    this.wire.onReconnect(() => {
      void this.publisher?.resend();
      // A config pushed while the link was down is not replayed: ask for the current one.
      setTimeout(() => void this.remoteConfig?.fetch(), this.random() * CONFIG_FETCH_SPREAD_MS).unref();
    });
    await this.hostIdentity();
    const sequence = new AgentSequence(this.state.seqCeiling, this.clock(), (ceiling) =>
      this.saveState({ seqCeiling: ceiling }),
    );
    this.publisher = new MetricsPublisher(
      this.wire,
      this.identity,
      sequence,
      this.options.bufferLimits ?? DEFAULT_BUFFER_LIMITS,
      this.log,
    );
    const channel = this.wire.configChannel?.(this.identity);
    if (channel)
      this.remoteConfig = new RemoteConfigSync(
        channel,
        this.log,
        (document) =>
          resolveRuntimeSettings(
            document,
            this.baseline,
            this.options.collectors.map((c) => c.name),
          ),
        (settings) => this.applySettings(settings),
        (document) => this.saveState({ config: document }),
      );
    if (this.state.config) this.remoteConfig?.restore(this.state.config);
    this.wire.onControl(
      this.identity,
      (message) => {
        if (message.type === 'revoked') void this.revoked(message.reason);
        if (message.type === 'config' && message.config) void this.remoteConfig?.receive(message.config);
      },
      (error) => this.log.warn({ err: error }, 'ignored an invalid control message'),
    );
    this.log.info(
      { agentId, environment, reused: !!enrolled, publicKey: this.key.getPublicKey() },
      enrolled ? 'resumed with saved identity' : 'enrolled',
    );
    this.heartbeatLoop();
    this.collectLoop(this.clock());
    void this.remoteConfig?.fetch();
    if (this.options.transport === 'http')
      this.configPollTimer = setInterval(() => void this.remoteConfig?.fetch(), HTTP_CONFIG_POLL_MS);
  }

  /** Clean stop: flush (bounded), final "stopping" heartbeat, drain. Exit code 0. */
  stop(): Promise<void> {
    return this.shutdown(AgentExitCodes.ok, true);
  }

  /**
   * Stop without the final "stopping" heartbeat (metrics still flushed): the platform then judges the
   * silence and reports the agent offline, as for a host that went away rather than one stopped on purpose.
   */
  stopSilently(): Promise<void> {
    return this.shutdown(AgentExitCodes.ok, true, false);
  }

  /** One collection as a batch, without NATS or enrollment (`--once`). */
  async collectOnce(): Promise<MetricsBatch> {
    const { samples, status } = await this.runner.collect();
    this.lastCollection = status;
    if (status.errors.length) this.log.warn({ errors: status.errors }, 'some collectors failed');
    return { agentId: this.store.load()?.agentId ?? 'unenrolled', seq: 0, collectedAt: status.at, samples };
  }

  /** The host as this type sees it; subclasses refine it (the Docker daemon's name, the cluster's id). */
  protected async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    return defaultHostIdentity(fallbackId);
  }

  private async hostIdentity(): Promise<HostIdentity> {
    this.host ??= await this.describeHost(this.state?.hostId ?? (this.generatedHostId ??= randomUUID()));
    return this.host;
  }

  /** A fresh key for every enrollment: only its public half and a proof of possession are sent. */
  private async enroll(token: string): Promise<AgentState> {
    const host = await this.hostIdentity();
    const key = this.keys.create();
    const publicKey = key.getPublicKey();
    const request = {
      agentType: this.options.agentType,
      agentVersion: AGENT_VERSION,
      host,
      labels: this.options.labels,
      identity: { publicKey, proof: signStatement(key, AgentStatements.enroll(publicKey, host.hostId)) },
    };
    const reply = await enrollWithRetry(this.platform!, token, request, {
      log: this.log,
      random: this.random,
      stopped: () => !!this.stopping,
    });
    const state: AgentState = {
      agentId: reply.agentId,
      environment: reply.environment,
      organizationId: reply.organizationId,
      jwt: reply.jwt,
      jwtExpiresAt: reply.jwtExpiresAt,
      hostId: host.hostId,
    };
    this.store.save(state);
    return state;
  }

  /** The CA to trust (RCA_CA_FILE, or the platform's own checked against RCA_CA_PIN); retried while unreachable. */
  private async trust(): Promise<string | undefined> {
    const timeoutMs = this.options.rpcTimeoutMs ?? 5000;
    const bootstrap = new PlatformClient({
      platformUrl: this.options.platformUrl!,
      timeoutMs,
      clock: this.clock,
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const ca = await resolvePlatformCa({
          caFile: this.options.caFile,
          caPin: this.options.caPin,
          stateDir: this.options.stateDir,
          client: bootstrap,
        });
        this.platform = ca
          ? new PlatformClient({ platformUrl: this.options.platformUrl!, timeoutMs, ca, clock: this.clock })
          : bootstrap;
        return ca;
      } catch (error) {
        if (!(error instanceof DomainError && error.code === ErrorCodes.UNAVAILABLE))
          throw new AgentFatalError(
            AgentExitCodes.badConfig,
            error instanceof Error ? error.message : String(error),
          );
        if (this.stopping) throw new AgentFatalError(AgentExitCodes.ok, 'stopped before start completed');
        const delay = Math.min(1000 * 2 ** attempt, 30_000) * (0.8 + 0.4 * this.random());
        this.log.warn(
          { err: error, retryInMs: Math.round(delay) },
          'cannot fetch the platform CA yet; retrying',
        );
        await sleep(delay);
      }
    }
  }

  private saveState(patch: Partial<AgentState>): void {
    this.state = { ...this.state!, ...patch };
    try {
      this.store.save(this.state);
    } catch (error) {
      this.log.error({ err: error, file: this.store.file }, 'could not write the state file');
    }
  }

  private async openWire(ca: string | undefined): Promise<AgentWire> {
    const rpcTimeoutMs = this.options.rpcTimeoutMs ?? 5000;
    if (this.options.transport === 'http') return new HttpAgentWire(this.platform!, this.key!, this.log);
    const renewer = this.renewer!;
    // A JWT that expired while the agent was down is renewed before the first connect.
    if (renewer.remainingMs() < 60_000) await renewer.onRefused('the saved JWT has expired');
    const wire = await NatsAgentWire.connect(
      this.options.natsUrl,
      `rca-agent-${this.options.agentType}`,
      { identity: this.identity!, jwt: () => this.state!.jwt, seed: this.key!.getSeed(), ca },
      {
        rpcTimeoutMs,
        log: this.log,
        onRefused: (reason) => renewer.onRefused(reason),
        stopped: () => !!this.stopping,
      },
    );
    wire.onAuthError((reason) => void renewer.onRefused(reason));
    renewer.start(wire);
    return wire;
  }

  private heartbeatLoop(): void {
    if (this.stopping) return;
    this.sendHeartbeat('running');
    const base = this.settings.heartbeatIntervalSeconds * 1000;
    const delay = base * (1 - HEARTBEAT_JITTER + 2 * HEARTBEAT_JITTER * this.random());
    this.heartbeatTimer = setTimeout(() => this.heartbeatLoop(), delay);
  }

  private sendHeartbeat(state: Heartbeat['state']): void {
    if (!this.identity || !this.host || !this.publisher || this.wire?.isClosed()) return;
    const heartbeat: Heartbeat = {
      agentId: this.identity.agentId,
      sentAt: this.clock(),
      agentType: this.options.agentType,
      agentVersion: AGENT_VERSION,
      uptimeSeconds: Math.round((this.clock() - this.startedAt) / 1000),
      intervalSeconds: this.settings.heartbeatIntervalSeconds,
      state,
      host: this.host,
      lastCollection: this.lastCollection,
      buffered: this.publisher.buffer.size,
      dropped: this.publisher.buffer.dropped,
      bufferFill: this.publisher.buffer.fill,
    };
    const sources = this.runner.sourceHealth();
    // Only when there are some: a platform older than the field refuses a heartbeat that carries it.
    if (sources.length) heartbeat.sources = sources;
    try {
      this.wire!.publishHeartbeat(this.identity, heartbeat);
      this.log.debug({ intervalSeconds: heartbeat.intervalSeconds, state }, 'heartbeat');
    } catch (error) {
      this.log.warn({ err: error }, 'heartbeat not sent');
    }
  }

  /** Collections are spaced from their start times, so a slow one does not shift the whole schedule. */
  private collectLoop(scheduledAt: number): void {
    if (this.stopping) return;
    this.collectStartedAt = scheduledAt;
    this.collecting = true;
    void this.collectAndPublish().finally(() => {
      this.collecting = false;
      this.scheduleCollection();
    });
  }

  private scheduleCollection(): void {
    if (this.stopping) return;
    clearTimeout(this.collectTimer);
    const next = this.collectStartedAt + this.settings.collectIntervalSeconds * 1000;
    this.collectTimer = setTimeout(
      () => this.collectLoop(Math.max(next, this.clock())),
      Math.max(0, next - this.clock()),
    );
  }

  /**
   * Remote configuration, live: log level, collectors, labels and application-metrics sources from now
   * on; timers rescheduled. `collectors` picks among the type's own; app-metrics sources run as configured.
   */
  private applySettings(next: RuntimeSettings): void {
    const previous = this.settings;
    this.settings = next;
    this.log.level = next.logLevel;
    const enabled = next.collectors;
    const own = enabled
      ? this.options.collectors.filter((c) => enabled.includes(c.name))
      : this.options.collectors;
    this.runner.use(
      [
        ...own,
        ...this.appMetrics.apply(next.appMetrics, next.collectIntervalSeconds),
        ...(this.options.plugins ?? []),
      ],
      this.options.collectorTimeoutMs ?? collectorTimeoutMs(next.collectIntervalSeconds),
    );
    if (this.stopping) return;
    // A new heartbeat interval is announced at once (liveness is judged by the interval in the heartbeat).
    if (next.heartbeatIntervalSeconds !== previous.heartbeatIntervalSeconds) {
      clearTimeout(this.heartbeatTimer);
      this.heartbeatLoop();
    }
    // A collection under way schedules the next one itself, with the new interval.
    if (next.collectIntervalSeconds !== previous.collectIntervalSeconds && !this.collecting)
      this.scheduleCollection();
  }

  private async collectAndPublish(): Promise<void> {
    const { samples, status } = await this.runner.collect();
    this.lastCollection = status;
    if (status.errors.length) this.log.warn({ errors: status.errors }, 'some collectors failed');
    else this.log.debug({ samples: samples.length, durationMs: status.durationMs }, 'collected');
    if (this.stopping || !this.publisher) return;
    this.publisher.enqueue(withLabels(samples, this.settings.labels), status.at);
  }

  private async revoked(reason: string | undefined): Promise<void> {
    this.log.error(
      { reason, exitCode: AgentExitCodes.revoked },
      'the platform revoked this agent; stopping. Install again with a new enrollment token to re-enroll.',
    );
    this.saveState({ revokedAt: new Date(this.clock()).toISOString() });
    await this.shutdown(AgentExitCodes.revoked, false);
  }

  private shutdown(exitCode: number, graceful: boolean, announce = graceful): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.heartbeatTimer);
      clearTimeout(this.collectTimer);
      clearInterval(this.configPollTimer);
      this.renewer?.stop();
      const wire = this.wire;
      if (wire && !wire.isClosed()) {
        if (graceful && this.publisher) {
          const flushed = await withTimeout(this.publisher.flush(), STOP_FLUSH_TIMEOUT_MS);
          const lost = this.publisher.buffer.size;
          if (!flushed || lost) this.log.warn({ lost }, 'stopping with unsent metrics batches');
          if (announce) this.sendHeartbeat('stopping');
        }
        const closed = await withTimeout(wire.close(graceful), STOP_DRAIN_TIMEOUT_MS);
        if (!closed) await wire.close(false);
      }
      this.appMetrics.close();
      for (const plugin of this.options.plugins ?? []) plugin.close?.();
      this.log.info({ exitCode }, 'agent stopped');
      this.resolveExited(exitCode);
    })();
    return this.stopping;
  }
}
