import { Inject, Injectable, Logger } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { AgentLivenessData, EventKinds } from '@app/contracts';
import { ConnectionState, EventPublisher, NATS_CONNECTION } from '@app/messaging';
import { Clock } from '@app/clock';
import { IngestionConfig } from '../config';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { AgentsRepository, LivenessTransition, SeenAgent } from './agents.repository';

/** Publishing an event after its transition committed: bounded retries, same id each time (deduplicated). */
const EVENT_PUBLISH_ATTEMPTS = 5;
const EVENT_RETRY_BASE_MS = 200;

/**
 * Online/offline per agent, agreed by every ingestion instance.
 *
 * Heartbeats are spread over instances by the queue group, so no instance sees them all. The
 * shared truth is the `agents` table: each instance keeps the heartbeats it received in memory
 * and writes them every LAST_SEEN_FLUSH_SECONDS as one multi-row upsert; then it sweeps for
 * agents silent for LIVENESS_MISSED_HEARTBEATS × their interval. Both status changes are
 * conditional UPDATE … RETURNING statements, a compare-and-set in the database: whichever
 * instance's statement changes the row gets it back and publishes the event; the others get
 * nothing. Event ids are deterministic (`<agentId>:<transition>:<lastSeenAt>`), so a retried
 * publish is also dropped by the EVENTS stream's duplicate window. Instance clocks are assumed
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
    private readonly events: EventPublisher,
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

  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    let online: LivenessTransition[];
    try {
      online = await this.agents.recordSeen(
        [...batch.values()],
        this.clock.now(),
        this.config.LIVENESS_MISSED_HEARTBEATS,
      );
    } catch (error) {
      // Keep what was seen for the next round, unless a newer heartbeat replaced it meanwhile.
      for (const [id, seen] of batch) if (!this.pending.has(id)) this.pending.set(id, seen);
      throw error;
    }
    await Promise.all(
      online.map((t) => this.announce(EventKinds.agentOnline, t, { lastSeenAt: t.lastSeenAt })),
    );
  }

  async sweep(): Promise<void> {
    if (!this.link.isConnected) return;
    const now = this.clock.now();
    const offline = await this.agents.markSilentOffline(
      now,
      this.config.LIVENESS_MISSED_HEARTBEATS,
      this.observingSince,
    );
    await Promise.all(
      offline.map((t) =>
        this.announce(EventKinds.agentOffline, t, {
          lastSeenAt: t.lastSeenAt,
          silentForMs: now - t.lastSeenAt,
        }),
      ),
    );
  }

  private async announce(
    kind: typeof EventKinds.agentOnline | typeof EventKinds.agentOffline,
    t: LivenessTransition,
    data: AgentLivenessData,
  ): Promise<void> {
    const transition = kind === EventKinds.agentOnline ? 'online' : 'offline';
    const event = {
      id: `${t.agentId}:${transition}:${t.lastSeenAt}`,
      kind,
      organizationId: t.organizationId,
      environment: t.environment,
      agentId: t.agentId,
      data,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.events.publish(event);
        return;
      } catch (error) {
        if (attempt >= EVENT_PUBLISH_ATTEMPTS) {
          this.logger.error(
            { err: error, agentId: t.agentId, kind },
            'liveness event could not be published',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, EVENT_RETRY_BASE_MS * 2 ** attempt));
      }
    }
  }
}
