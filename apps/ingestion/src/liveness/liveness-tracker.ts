import { Inject, Injectable, Logger } from '@nestjs/common';
import { NatsConnection } from 'nats';
import {
  AgentHealthData,
  AgentLivenessData,
  AgentVersionData,
  EventKind,
  EventKinds,
  Heartbeat,
  isDependencyUnavailable,
} from '@app/contracts';
import { ConnectionState, NATS_CONNECTION } from '@app/messaging';
import { EventOutbox, OutboxEvent } from '@app/outbox';
import { Clock } from '@app/clock';
import { IngestionConfig } from '../config';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { assessHeartbeat, HealthThresholds } from '../health/heartbeat-health';
import { AgentsRepository, LivenessTransition, SeenAgent, TransitionKind } from './agents.repository';

/** Who sent a heartbeat, as the subject and the identity check established it. */
export type HeardFrom = Pick<SeenAgent, 'agentId' | 'organizationId' | 'environment'>;

/**
 * Nothing at all on the heartbeat subscription for this long, though every instance publishes a probe
 * (Subjects.heartbeatProbe) every HEARTBEAT_PROBE_INTERVAL_MS: the instance is not hearing. Ten probes'
 * worth, so the queue group handing probes to other instances practically never makes one look deaf
 * (each instance receives about two a second, whatever their number).
 */
export const HEARTBEAT_PROBE_INTERVAL_MS = 500;
const DEAF_AFTER_MS = 10 * HEARTBEAT_PROBE_INTERVAL_MS;

/**
 * Online/offline per agent, agreed by every ingestion instance.
 *
 * Heartbeats are spread over instances by the queue group, so no instance sees them all. The
 * shared truth is the `agents` table: each instance keeps the heartbeats it received in memory
 * and writes them every LAST_SEEN_FLUSH_SECONDS as one multi-row upsert; then it sweeps for
 * agents silent for LIVENESS_MISSED_HEARTBEATS × their interval. Both status changes are
 * conditional UPDATE … RETURNING statements, a compare-and-set in the database: whichever
 * instance's statement changes the row gets it back and writes the event, in the same
 * transaction, to the outbox, which publishes it after the commit and keeps it until JetStream
 * has it (a crash or a NATS outage delays an event, never loses it). Event ids are deterministic
 * (`<agentId>:<transition>:<lastSeenAt>`), so a repeated publish is dropped by the EVENTS
 * stream's duplicate window. Instance clocks are assumed
 * NTP-synchronised; the flush interval must stay well below the offline threshold.
 *
 * An instance judges only silence it could have heard, and counts silence from the moment it
 * could hear again:
 * - while its NATS link is down, and a threshold after it is back (a NATS outage or a restart);
 * - while nothing reaches its heartbeat subscription, not even the probe every instance publishes
 *   twice a second (`heard()`): a blocked subscription looks exactly like a fleet gone silent;
 * - while heartbeats arrive that it cannot verify (the token service does not answer);
 * - when last-seen could not be written for longer than half the offline threshold (the database
 *   stalled, refused or was full): what the other instances heard meanwhile may not be written yet.
 * And a sweep judges as of the moment its round's flush began: everything this instance heard before
 * then is in the database, what it heard during a slow flush is not yet. So no outage of NATS, the
 * database or the token service is reported as the fleet going offline.
 */
@Injectable()
export class LivenessTracker {
  private readonly logger = new Logger(LivenessTracker.name);
  private pending = new Map<string, SeenAgent>();
  /**
   * Each agent's cumulative drop count in the last heartbeat this instance heard: a rise means it is
   * dropping now. One number per agent heard, kept for the process's life (agents are few enough).
   */
  private readonly lastDropped = new Map<string, number>();
  private readonly thresholds: HealthThresholds;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private readonly link: ConnectionState;
  /** Since when this instance has been receiving heartbeats without interruption. */
  private observingSince: number;
  /** Last time anything reached the heartbeat subscription (a heartbeat or a probe). */
  private lastHeardAt: number;
  /** Start of the first flush attempt not yet succeeded (undefined while flushes succeed). */
  private unwrittenSince?: number;
  /** Last-seen unwritten for longer than this: the other instances' writes may be missing too. */
  private readonly writeGapMs: number;

  constructor(
    private readonly agents: AgentsRepository,
    private readonly outbox: EventOutbox,
    @Inject(Clock) private readonly clock: Clock,
    private readonly config: IngestionConfig,
    private readonly metrics: IngestionMetrics,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
  ) {
    this.observingSince = this.lastHeardAt = clock.now();
    this.thresholds = {
      bufferFillFraction: config.HEALTH_BUFFER_FILL_FRACTION,
      clockSkewSeconds: config.HEALTH_CLOCK_SKEW_SECONDS,
    };
    this.writeGapMs =
      (config.LIVENESS_MISSED_HEARTBEATS * config.DEFAULT_HEARTBEAT_INTERVAL_SECONDS * 1000) / 2;
    this.link = ConnectionState.of(nc);
    this.link.onReconnect(() => this.observeFrom(this.clock.now()));
  }

  /** Hot path: the health rules and two map writes, no I/O. */
  recordHeartbeat(agent: HeardFrom, heartbeat: Heartbeat): void {
    const now = this.heard();
    const health = assessHeartbeat(heartbeat, now, this.lastDropped.get(agent.agentId), this.thresholds);
    this.lastDropped.set(agent.agentId, heartbeat.dropped);
    this.pending.set(agent.agentId, {
      ...agent,
      intervalSeconds: heartbeat.intervalSeconds,
      lastSeenAt: now,
      reportedState: health.state,
      // Sources are the agent's own report, kept as sent (already bounded by the wire checks).
      health: {
        reasons: health.reasons,
        components: health.components,
        ...(heartbeat.sources?.length ? { sources: heartbeat.sources } : {}),
      },
      version: heartbeat.agentVersion,
    });
  }

  /** Something reached the heartbeat subscription: an accepted heartbeat, or a probe. */
  heard(): number {
    const now = this.clock.now();
    if (now - this.lastHeardAt > DEAF_AFTER_MS) {
      this.logger.log({ deafForMs: now - this.lastHeardAt }, 'heartbeats reach this instance again');
      this.observeFrom(now);
    }
    this.lastHeardAt = now;
    return now;
  }

  /** A heartbeat arrived whose agent could not be looked up: that agent may be talking unheard. */
  couldNotVerify(): void {
    this.observeFrom(this.clock.now());
  }

  /** False while the NATS link is down, or nothing (not even a probe) reached the heartbeat subscription for DEAF_AFTER_MS. */
  get hearing(): boolean {
    return this.clock.now() - this.lastHeardAt <= DEAF_AFTER_MS && this.link.isConnected;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.config.LAST_SEEN_FLUSH_SECONDS * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    // Hand what this instance saw to the others before leaving.
    await this.flush().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'final last-seen flush failed'),
    );
  }

  /** One round: write last-seen, then look for silent agents. Rounds never overlap. */
  tick(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        const startedAt = this.clock.now();
        this.unwrittenSince ??= startedAt;
        await this.flush();
        this.wrote();
        await this.sweep(startedAt);
        await this.outbox.relay();
        const counts = await this.agents.countByStatus();
        this.metrics.agentsOnline.set(counts.online);
        this.metrics.agentsTracked.set(counts.tracked);
      } catch (error) {
        if (!isDependencyUnavailable(error))
          this.logger.warn({ err: error }, 'liveness round failed; retrying next round');
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  /**
   * Writes what this instance saw (last-seen, health, version) and announces the status and version
   * changes it made; resolves with how many agents it brought online.
   */
  async flush(): Promise<number> {
    if (!this.pending.size) return 0;
    const batch = this.pending;
    this.pending = new Map();
    let changed: LivenessTransition[];
    try {
      changed = await this.agents.recordSeen(
        [...batch.values()],
        this.clock.now(),
        this.config.LIVENESS_MISSED_HEARTBEATS,
        (trx, transitions) =>
          this.outbox.add(
            trx,
            transitions.map((t) => transitionEvent(t)),
          ),
      );
    } catch (error) {
      // Keep what was seen for the next round, unless a newer heartbeat replaced it meanwhile.
      for (const [id, seen] of batch) if (!this.pending.has(id)) this.pending.set(id, seen);
      throw error;
    }
    return changed.filter((t) => t.kind === 'online').length;
  }

  /**
   * Marks agents offline that were silent as of `asOf` (the start of this round's flush: all this
   * instance heard before it is written); resolves with how many.
   */
  async sweep(asOf = this.clock.now()): Promise<number> {
    if (!this.hearing) return 0;
    const offline = await this.agents.markSilentOffline(
      asOf,
      this.config.LIVENESS_MISSED_HEARTBEATS,
      this.observingSince,
      (trx, transitions) =>
        this.outbox.add(
          trx,
          transitions.map((t) => transitionEvent(t, { silentForMs: asOf - t.lastSeenAt })),
        ),
    );
    return offline.length;
  }

  /** Silence is counted from `at` at the earliest. */
  private observeFrom(at: number): void {
    this.observingSince = Math.max(this.observingSince, at);
  }

  /**
   * A flush succeeded. If last-seen had been unwritable longer than half the offline threshold (one
   * stalled flush, or failing ones), other instances were blocked as well and may not have written
   * what they heard yet: silence is counted from now.
   */
  private wrote(): void {
    const now = this.clock.now();
    const unwrittenFor = now - (this.unwrittenSince ?? now);
    this.unwrittenSince = undefined;
    if (unwrittenFor <= this.writeGapMs) return;
    this.logger.warn(
      { unwrittenForMs: unwrittenFor },
      'last-seen could not be written for a while (database stalled or unavailable); silence is counted from now',
    );
    this.observeFrom(now);
  }
}

const EVENT_OF: Record<TransitionKind, EventKind> = {
  online: EventKinds.agentOnline,
  offline: EventKinds.agentOffline,
  degraded: EventKinds.agentDegraded,
  recovered: EventKinds.agentRecovered,
  stopped: EventKinds.agentStopped,
  version: EventKinds.agentVersionChanged,
};

/** The event announcing a transition; its id is deterministic, so a republish is dropped by EVENTS. */
function transitionEvent(t: LivenessTransition, extra: Partial<AgentLivenessData> = {}): OutboxEvent {
  const data: AgentHealthData | AgentVersionData =
    t.kind === 'version'
      ? { lastSeenAt: t.lastSeenAt, version: t.version ?? '', previousVersion: t.previousVersion ?? null }
      : { lastSeenAt: t.lastSeenAt, ...extra, ...(t.reasons ? { reasons: t.reasons } : {}) };
  return {
    id: `${t.agentId}:${t.kind === 'version' ? `version:${t.version}` : t.kind}:${t.lastSeenAt}`,
    kind: EVENT_OF[t.kind],
    organizationId: t.organizationId,
    environment: t.environment,
    agentId: t.agentId,
    data: { ...data },
  };
}
