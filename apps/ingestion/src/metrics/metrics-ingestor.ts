import { Inject, Injectable, Logger } from '@nestjs/common';
import { JsMsg } from 'nats';
import { Clock } from '@app/clock';
import { parseAgentSubject } from '@app/contracts';
import { AgentIdentityChecker, IdentityOutcome, RejectReasons } from '../identity/agent-identity-checker';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { RejectedInput } from '../observability/rejected-input';
import { checkMetricsBatch } from '../wire/agent-message-checks';
import { DeadLetterParker } from './dead-letter';
import { MetricsRepository } from './metrics.repository';
import { MetricsWriter, VerifiedBatch } from './metrics-writer';

/** Redelivery delay of a batch the database refused while accepting others (it may be a transient error). */
export const RETRY_DELAY_MS = 2000;
/**
 * A message that fails to store on its own while the database accepts a probe write is retried this
 * many deliveries before it is parked as `storage_rejected` (a transient error gets its chances).
 */
const STORAGE_ATTEMPTS_BEFORE_PARKING = 3;

export interface IngestOutcome {
  /**
   * Messages that cannot be judged or stored now: the token service did not answer, or the database
   * does not take writes. They are still in hand, neither acked nor nak'ed: the caller keeps them
   * (a redelivery would count towards max deliveries for an outage that is not theirs) and offers
   * them again after a pause.
   */
  held: JsMsg[];
  /** Why storage refused them, when it did (for the one log line of the outage). */
  storageError?: unknown;
}

/** What decoding needs of a message: a delivered `JsMsg`, or one read back from the stream by sequence. */
export interface WireMessage {
  subject: string;
  data: Uint8Array;
}

export type Accepted<M extends WireMessage = JsMsg> = { msg: M; ok: true; verified: VerifiedBatch };
export type Refused<M extends WireMessage = JsMsg> = { msg: M; ok: false; reason: string; detail?: string };
export type Checked<M extends WireMessage = JsMsg> = Accepted<M> | Refused<M>;
export type Decoded<M extends WireMessage = JsMsg> =
  | {
      msg: M;
      ok: true;
      environment: string;
      agentId: string;
      body: VerifiedBatch['batch'];
    }
  | Refused<M>;

/**
 * One fetched batch of metrics messages, top to bottom: decode and check every message →
 * find each agent's organisation (one await for the batch) → write all accepted samples in one
 * transaction → ack. Bad messages are parked on the dead-letter stream and acked; messages
 * that cannot be judged now (token service silent) or stored now (database down or full) are
 * handed back to the caller, still in hand.
 */
@Injectable()
export class MetricsIngestor {
  private readonly logger = new Logger(MetricsIngestor.name);

  constructor(
    private readonly identities: AgentIdentityChecker,
    private readonly writer: MetricsWriter,
    private readonly repository: MetricsRepository,
    private readonly deadLetter: DeadLetterParker,
    private readonly metrics: IngestionMetrics,
    private readonly rejected: RejectedInput,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** A freshly fetched batch. */
  ingest(messages: JsMsg[]): Promise<IngestOutcome> {
    this.metrics.received.inc({ kind: 'metrics' }, messages.length);
    this.metrics.batchMessages.observe(messages.length);
    return this.retry(messages);
  }

  /** Messages held from an earlier attempt (or a fresh batch, counted by `ingest`). */
  async retry(messages: JsMsg[]): Promise<IngestOutcome> {
    const now = this.clock.now();
    const decoded = messages.map((msg) => decode(msg, now));
    const verdicts = decoded.map((d) => verifyIdentity(this.identities, d));
    // Known agents are judged from the cache: no promise per message unless one needs the directory.
    const checked = verdicts.some((v) => v instanceof Promise)
      ? await Promise.all(verdicts)
      : (verdicts as Checked[]);

    const accepted: Accepted[] = [];
    const parked: Refused[] = [];
    const held: JsMsg[] = [];
    for (const c of checked) {
      if (c.ok) accepted.push(c);
      else if (c.reason === RejectReasons.unverifiable) held.push(c.msg);
      else parked.push(c);
    }
    if (held.length) this.rejected.record('metrics', RejectReasons.unverifiable, {}, held.length);

    await this.park(parked);
    if (!accepted.length) return { held };
    const stored = await this.store(accepted, now);
    return { held: held.concat(stored.held), storageError: stored.storageError };
  }

  /** Writes and acks; resolves with the messages to hold because the database takes no writes. */
  private async store(accepted: Accepted[], now: number): Promise<IngestOutcome> {
    const stopTimer = this.metrics.commitSeconds.startTimer();
    try {
      const result = await this.writer.writeBatch(accepted.map((a) => a.verified));
      stopTimer();
      for (const a of accepted) a.msg.ack();
      this.metrics.accepted.inc({ kind: 'metrics' }, accepted.length);
      this.metrics.batchSamples.observe(result.samples);
      this.metrics.samplesStored.inc(result.samples);
      this.metrics.batchesStored.inc(result.stored.size);
      this.metrics.duplicateBatches.inc(accepted.length - result.stored.size);
      return { held: [] };
    } catch (error) {
      this.metrics.storageFailures.inc();
      // A probe write tells an unavailable or full database (hold everything) from a batch it refuses.
      if (!(await this.repository.acceptsWrites(now)))
        return { held: accepted.map((a) => a.msg), storageError: error };
      await this.storeOneByOne(accepted);
      return { held: [] };
    }
  }

  /**
   * The database takes writes but refused the batch: find the messages it refuses. Each is
   * handed back for another delivery, and parked on its STORAGE_ATTEMPTS_BEFORE_PARKING-th:
   * however many of them arrive together, none loops forever.
   */
  private async storeOneByOne(accepted: Accepted[]): Promise<void> {
    for (const a of accepted) {
      try {
        const result = await this.writer.writeBatch([a.verified]);
        a.msg.ack();
        this.metrics.accepted.inc({ kind: 'metrics' });
        this.metrics.samplesStored.inc(result.samples);
        this.metrics.batchesStored.inc(result.stored.size);
      } catch (error) {
        if (a.msg.info.deliveryCount < STORAGE_ATTEMPTS_BEFORE_PARKING) a.msg.nak(RETRY_DELAY_MS);
        else
          await this.park([
            { msg: a.msg, ok: false, reason: RejectReasons.storageRejected, detail: String(error) },
          ]);
      }
    }
  }

  /** Dead-letters then acks; a message whose parking failed is handed back, never dropped. */
  private async park(parked: Refused[]): Promise<void> {
    if (!parked.length) return;
    await Promise.all(
      parked.map(async (p) => {
        this.rejected.record('metrics', p.reason, { subject: p.msg.subject, detail: p.detail });
        try {
          await this.deadLetter.park(p.msg, p.reason, p.detail);
          p.msg.ack();
          this.metrics.deadLettered.inc();
        } catch (error) {
          this.logger.warn({ err: error }, 'dead-letter publish failed; message will be redelivered');
          p.msg.nak(RETRY_DELAY_MS);
        }
      }),
    );
  }
}

/** The agent behind a decoded message must be known and not revoked; its organisation comes from the token service. */
export function verifyIdentity<M extends WireMessage>(
  identities: AgentIdentityChecker,
  d: Decoded<M>,
): Checked<M> | Promise<Checked<M>> {
  if (!d.ok) return d;
  const outcome = identities.check(d.environment, d.agentId);
  const judge = (o: IdentityOutcome): Checked<M> =>
    o.ok
      ? {
          msg: d.msg,
          ok: true,
          verified: { batch: d.body, organizationId: o.organizationId, environment: d.environment },
        }
      : { msg: d.msg, ok: false, reason: o.reason };
  return outcome instanceof Promise ? outcome.then(judge) : judge(outcome);
}

/** Subject, JSON and wire checks of one metrics message; also what the remote-write sink starts from. */
export function decode<M extends WireMessage>(msg: M, now: number): Decoded<M> {
  const subject = parseAgentSubject(msg.subject);
  if (!subject) return { msg, ok: false, reason: RejectReasons.invalidSubject };
  let body: unknown;
  try {
    body = JSON.parse(
      Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8'),
    );
  } catch {
    return { msg, ok: false, reason: RejectReasons.invalidPayload, detail: 'body is not JSON' };
  }
  const check = checkMetricsBatch(body, now);
  if (!check.ok) return { msg, ok: false, reason: RejectReasons.invalidPayload, detail: check.reason };
  if (check.value.agentId !== subject.agentId)
    return {
      msg,
      ok: false,
      reason: RejectReasons.mismatch,
      detail: 'body agentId differs from the subject',
    };
  return {
    msg,
    ok: true,
    environment: subject.environment,
    agentId: subject.agentId,
    body: check.value,
  };
}
