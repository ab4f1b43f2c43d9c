import { Inject, Injectable, Logger } from '@nestjs/common';
import { Msg, NatsConnection, Subscription } from 'nats';
import { Counter } from 'prom-client';
import { parseAgentSubject, Subjects } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';
import {
  AgentIdentityChecker,
  IdentityOutcome,
  RejectReason,
  RejectReasons,
} from '../identity/agent-identity-checker';
import { HEARTBEAT_PROBE_INTERVAL_MS, LivenessTracker } from '../liveness/liveness-tracker';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { RejectedInput } from '../observability/rejected-input';
import { checkHeartbeat } from '../wire/agent-message-checks';

/** Queue group shared by every instance: each heartbeat is handled by exactly one of them. */
export const HEARTBEAT_QUEUE_GROUP = 'ingestion';
/**
 * Heartbeats waiting for a token-service answer. Past this, new ones from agents not yet in the
 * directory's cache are dropped (heartbeats are lossy by design) rather than letting a flood grow
 * memory. Misses share `tokens.agents.lookup` requests of up to 500, so this is 20 requests' worth
 * (≈ 10 MB of held messages), enough for a few round trips of 5,000 new agents/s.
 */
const MAX_PENDING_VERIFICATIONS = 10_000;

type AgentSubject = NonNullable<ReturnType<typeof parseAgentSubject>>;

/**
 * One core NATS subscription for every heartbeat. Per message: parse the subject (NATS let only
 * that agent publish there), find the agent's organisation (synchronously from the directory's
 * cache in the common case), check the body, record last-seen, health and version in memory. No await
 * per message and no database write.
 */
@Injectable()
export class HeartbeatSubscriber {
  private readonly logger = new Logger(HeartbeatSubscriber.name);
  private subscription?: Subscription;
  private probeTimer?: NodeJS.Timeout;
  private pendingVerifications = 0;
  // Label lookups resolved once: the per-message cost is an increment.
  private readonly received: Counter.Internal;
  private readonly accepted: Counter.Internal;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly identities: AgentIdentityChecker,
    private readonly liveness: LivenessTracker,
    private readonly metrics: IngestionMetrics,
    private readonly rejected: RejectedInput,
  ) {
    this.received = metrics.received.labels('heartbeat');
    this.accepted = metrics.accepted.labels('heartbeat');
  }

  start(): void {
    this.subscription ??= this.nc.subscribe(Subjects.heartbeatWildcard, {
      queue: HEARTBEAT_QUEUE_GROUP,
      callback: (err, msg) => {
        // Refused by the server (permissions): nothing arrives any more, so the tracker stops judging silence.
        if (err)
          this.logger.error({ err }, 'heartbeat subscription failed; this instance hears no heartbeats');
        else this.handle(msg);
      },
    });
    // Proof that the subscription delivers, independent of the agents (see LivenessTracker).
    this.probeTimer ??= setInterval(
      () => this.nc.publish(Subjects.heartbeatProbe),
      HEARTBEAT_PROBE_INTERVAL_MS,
    );
  }

  stop(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  handle(msg: Msg): void {
    if (msg.subject === Subjects.heartbeatProbe) {
      this.liveness.heard();
      return;
    }
    this.received.inc();
    const subject = parseAgentSubject(msg.subject);
    if (!subject) return this.reject(RejectReasons.invalidSubject, msg.subject);
    const outcome = this.identities.check(subject.environment, subject.agentId);
    if (!(outcome instanceof Promise)) return this.accept(msg, subject, outcome);
    if (this.pendingVerifications >= MAX_PENDING_VERIFICATIONS) {
      this.liveness.couldNotVerify();
      return this.reject(RejectReasons.unverifiable, msg.subject);
    }
    this.pendingVerifications++;
    void outcome.then((result) => {
      this.pendingVerifications--;
      this.accept(msg, subject, result);
    });
  }

  private accept(msg: Msg, subject: AgentSubject, outcome: IdentityOutcome): void {
    if (!outcome.ok && outcome.reason === RejectReasons.unverifiable) {
      this.liveness.couldNotVerify();
      return this.reject(outcome.reason, msg.subject);
    }
    if (!outcome.ok) return this.reject(outcome.reason, msg.subject);
    let body: unknown;
    try {
      body = JSON.parse(
        Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8'),
      );
    } catch {
      return this.reject(RejectReasons.invalidPayload, msg.subject, 'body is not JSON');
    }
    const heartbeat = checkHeartbeat(body);
    if (!heartbeat.ok) return this.reject(RejectReasons.invalidPayload, msg.subject, heartbeat.reason);
    if (heartbeat.value.agentId !== subject.agentId)
      return this.reject(RejectReasons.invalidPayload, msg.subject, 'body agentId differs from the subject');
    this.liveness.recordHeartbeat(
      { agentId: subject.agentId, organizationId: outcome.organizationId, environment: subject.environment },
      heartbeat.value,
    );
    this.accepted.inc();
  }

  private reject(reason: RejectReason, subject: string, detail?: string): void {
    this.rejected.record('heartbeat', reason, { subject, detail });
  }
}
