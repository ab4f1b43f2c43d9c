import { Inject, Injectable, Logger } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { AgentLivenessData, EventKinds } from '@app/contracts';
import { ConnectionState, NATS_CONNECTION } from '@app/messaging';
import { EventOutbox, OutboxEvent } from '@app/outbox';
import { Clock } from '@app/clock';
import { IngestionConfig } from '../config';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { AgentsRepository, LivenessTransition, SeenAgent } from './agents.repository';

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
 * An instance that cannot receive heartbeats cannot judge silence: while its NATS link is down it
 * does not sweep, and after it (re)connects an agent must be silent for a whole threshold counted
 * from then. So a NATS outage (or a platform restart) is not reported as the whole fleet going
 * offline, and no offline event is lost to a publish attempted with no link.
 */
@Injectable()
export class LivenessTracker {
  private readonly logger = new Logger(LivenessTracker.name);
  private pending = new Map<string, SeenAgent>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private readonly link: ConnectionState;
  /** Since when this instance has been receiving heartbeats without interruption. */
  private observingSince: number;

  constructor(
    private readonly agents: AgentsRepository,
    private readonly outbox: EventOutbox,
    @Inject(Clock) private readonly clock: Clock,
    private readonly config: IngestionConfig,
    private readonly metrics: IngestionMetrics,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
  ) {
    this.observingSince = clock.now();
    this.link = ConnectionState.of(nc);
    this.link.onReconnect(() => (this.observingSince = this.clock.now()));
  }

  /** Hot path: a map write, no I/O. */
  recordHeartbeat(agent: Omit<SeenAgent, 'lastSeenAt'>): void {
    this.pending.set(agent.agentId, { ...agent, lastSeenAt: this.clock.now() });
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
        await this.flush();
        await this.sweep();
        await this.outbox.relay();
        const counts = await this.agents.countByStatus();
        this.metrics.agentsOnline.set(counts.online);
        this.metrics.agentsTracked.set(counts.tracked);
      } catch (error) {
        this.logger.warn({ err: error }, 'liveness round failed; retrying next round');
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  /** Writes what this instance saw; resolves with how many agents it brought online. */
  async flush(): Promise<number> {
    if (!this.pending.size) return 0;
    const batch = this.pending;
    this.pending = new Map();
    let online: LivenessTransition[];
    try {
      online = await this.agents.recordSeen(
        [...batch.values()],
        this.clock.now(),
        this.config.LIVENESS_MISSED_HEARTBEATS,
        (trx, transitions) =>
          this.outbox.add(
            trx,
            transitions.map((t) => livenessEvent(EventKinds.agentOnline, t, { lastSeenAt: t.lastSeenAt })),
          ),
      );
    } catch (error) {
      // Keep what was seen for the next round, unless a newer heartbeat replaced it meanwhile.
      for (const [id, seen] of batch) if (!this.pending.has(id)) this.pending.set(id, seen);
      throw error;
    }
    return online.length;
  }

  /** Marks silent agents offline; resolves with how many. */
  async sweep(): Promise<number> {
    if (!this.link.isConnected) return 0;
    const now = this.clock.now();
    const offline = await this.agents.markSilentOffline(
      now,
      this.config.LIVENESS_MISSED_HEARTBEATS,
      this.observingSince,
      (trx, transitions) =>
        this.outbox.add(
          trx,
          transitions.map((t) =>
            livenessEvent(EventKinds.agentOffline, t, {
              lastSeenAt: t.lastSeenAt,
              silentForMs: now - t.lastSeenAt,
            }),
          ),
        ),
    );
    return offline.length;
  }
}

function livenessEvent(
  kind: typeof EventKinds.agentOnline | typeof EventKinds.agentOffline,
  t: LivenessTransition,
  data: AgentLivenessData,
): OutboxEvent {
  const transition = kind === EventKinds.agentOnline ? 'online' : 'offline';
  return {
    id: `${t.agentId}:${transition}:${t.lastSeenAt}`,
    kind,
    organizationId: t.organizationId,
    environment: t.environment,
    agentId: t.agentId,
    data: { ...data },
  };
}
