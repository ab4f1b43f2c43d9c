import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy, JsMsg, NatsConnection, StoredMsg } from 'nats';
import { Clock, PeriodicJob } from '@app/clock';
import { parseAgentSubject, Streams } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';
import { IngestionConfig } from '../config';
import { AgentIdentityChecker, RejectReasons } from '../identity/agent-identity-checker';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { BatchKey, MetricsAuditRepository } from './metrics-audit.repository';
import { decode, verifyIdentity } from './metrics-ingestor';
import { METRICS_CONSUMER } from './metrics-stream';
import { MetricsRepository } from './metrics.repository';
import { MetricsWriter, VerifiedBatch } from './metrics-writer';

/** Messages checked per database query (two IN lists of at most this many values). */
const CHUNK_MESSAGES = 1000;
/**
 * A holder that died mid-run blocks the audit at most this long; a live holder renews it every chunk
 * (a fetch of at most FETCH_EXPIRES_MS, the key check and any repairs). Short, because a pass holds it for a second
 * or more of every interval: an instance killed then must not hold back the others' repairs for long.
 */
const LEASE_MS = 20_000;
/** How long an empty fetch waits before the run decides it has caught up. */
const FETCH_EXPIRES_MS = 1000;
/** Repaired batches named in the run's log line (the count is always there). */
const LOGGED_EXAMPLES = 20;

export interface AuditRun {
  /** Another instance holds the lease. */
  skipped: boolean;
  checked: number;
  /** Batches that were in AGENT_METRICS below the consumer's ack floor without a row, now stored. */
  repaired: number;
  /** Position after the run (stream sequence checked up to). */
  position?: number;
}

/** Ends a run early without moving past what could not be judged or written (token service or database down). */
class Interrupted extends Error {}

interface Candidate extends BatchKey {
  streamSeq: number;
}

/**
 * Checks AGENT_METRICS against the store, behind the `ingestion` consumer, and stores any batch that
 * JetStream counts as delivered yet has no row. The consumer's own state is not enough: nats-server
 * before 2.10.26 can skip messages when a consumer's leader changes (a message delivered without quorum
 * on its delivered state, then an ack for a later one moves the new leader past it: nats-server#6469,
 * #6566). This reads the stream itself — headers only, with an ephemeral ordered consumer, independent
 * of the durable one's state — up to what the durable consumer has delivered and is older than
 * METRICS_AUDIT_DELAY_SECONDS, asks the database which (agent, seq) keys exist, and stores the missing
 * ones exactly once through the same checks and writer as the consumer (one that the consumer is still
 * holding is then a duplicate there, which is harmless). One instance at a time (a lease in the database).
 */
@Injectable()
export class MetricsAudit {
  private readonly logger = new Logger(MetricsAudit.name);
  private readonly owner = randomUUID();
  private readonly job: PeriodicJob<AuditRun>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly audits: MetricsAuditRepository,
    private readonly repository: MetricsRepository,
    private readonly writer: MetricsWriter,
    private readonly identities: AgentIdentityChecker,
    private readonly metrics: IngestionMetrics,
    @Inject(Clock) private readonly clock: Clock,
    private readonly config: IngestionConfig,
  ) {
    this.job = new PeriodicJob({
      everySeconds: config.METRICS_AUDIT_INTERVAL_SECONDS,
      pass: () => this.pass(),
      logger: this.logger,
      failureMessage: 'metrics audit run failed',
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass from the stored position to what may be judged now. Concurrent calls share the pass. */
  run(): Promise<AuditRun> {
    return this.job.run();
  }

  private async pass(): Promise<AuditRun> {
    const run: AuditRun = { skipped: false, checked: 0, repaired: 0 };
    const jsm = await this.nc.jetstreamManager();
    const consumer = await jsm.consumers.info(Streams.metrics, METRICS_CONSUMER);
    let position = await this.audits.position();
    if (position === undefined) {
      // First audit of this database: what came before is the consumer's history, not this audit's.
      await this.audits.initialize(consumer.ack_floor.stream_seq);
      position = await this.audits.position();
    }
    if (!(await this.audits.claim(this.owner, this.clock.now(), LEASE_MS))) {
      this.logger.debug({ position }, 'metrics audit skipped: another instance holds the lease');
      return { ...run, skipped: true };
    }
    const repaired: Candidate[] = [];
    try {
      const stream = await jsm.streams.info(Streams.metrics);
      let from = position ?? 0;
      // The stream was recreated under the same name: its sequences start again.
      if (from > stream.state.last_seq) from = 0;
      const upTo = Math.min(consumer.delivered.stream_seq, stream.state.last_seq);
      const newest = this.clock.now() - this.config.METRICS_AUDIT_DELAY_SECONDS * 1000;
      if (from >= upTo) {
        this.logger.debug({ from, upTo }, 'metrics audit pass: nothing delivered past its position');
        return { ...run, position: from };
      }

      const reader = await this.nc.jetstream().consumers.get(Streams.metrics, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: from + 1,
        headers_only: true,
      });
      for (let done = false; !done;) {
        const chunk: JsMsg[] = [];
        let fetched = 0;
        for await (const msg of await reader.fetch({
          max_messages: CHUNK_MESSAGES,
          expires: FETCH_EXPIRES_MS,
        })) {
          fetched++;
          if (msg.seq > upTo || msg.info.timestampNanos / 1e6 > newest) {
            done = true;
            break;
          }
          chunk.push(msg);
          if (msg.seq === upTo) done = true;
          if (chunk.length === CHUNK_MESSAGES || done) break;
        }
        if (!fetched) done = true;
        if (!chunk.length) break;
        const found = await this.check(chunk);
        run.checked += chunk.length;
        this.metrics.auditChecked.inc(chunk.length);
        repaired.push(...found);
        run.repaired += found.length;
        from = chunk[chunk.length - 1].seq;
        await this.audits.advance(this.owner, from);
        this.metrics.auditPosition.set(from);
        // Renew the lease; lost (this pass took longer than the lease) means another instance goes on from here.
        if (!(await this.audits.claim(this.owner, this.clock.now(), LEASE_MS))) break;
      }
      // Debug: how far each pass got, so a batch the audit was slow to reach can be traced to its passes.
      this.logger.debug({ from: position, to: from, upTo, checked: run.checked }, 'metrics audit pass');
      return { ...run, position: from };
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      this.logger.log(
        { checked: run.checked, repaired: run.repaired },
        'metrics audit stopped early: the token service or the database did not answer; the next run goes on from here',
      );
      return run;
    } finally {
      if (repaired.length)
        this.logger.warn(
          {
            repaired: repaired.length,
            examples: repaired.slice(0, LOGGED_EXAMPLES).map((r) => `${r.agentId}:${r.seq}@${r.streamSeq}`),
          },
          'metrics batches JetStream counted delivered were not stored; stored them now (agent:seq@stream sequence)',
        );
      await this.audits.release(this.owner).catch(() => undefined);
    }
  }

  /** Stores the messages of `chunk` that have no row; returns those it stored. */
  private async check(chunk: JsMsg[]): Promise<Candidate[]> {
    const keyed: Candidate[] = [];
    // A message without a usable msgID (not how agents publish) is read whole: the writer's (agent, seq) key decides.
    const unkeyed: number[] = [];
    for (const msg of chunk) {
      const key = batchKeyOf(msg);
      if (key) keyed.push(key);
      else unkeyed.push(msg.seq);
    }
    const stored = await this.audits.storedKeys(keyed);
    const missing = keyed.filter((k) => !stored.has(`${k.agentId}:${k.seq}`)).map((k) => k.streamSeq);
    if (!missing.length && !unkeyed.length) return [];
    return this.repair([...missing, ...unkeyed]);
  }

  /** Reads the messages back by stream sequence and stores those that pass the consumer's checks. */
  private async repair(streamSeqs: number[]): Promise<Candidate[]> {
    const jsm = await this.nc.jetstreamManager();
    const accepted: { candidate: Candidate; verified: VerifiedBatch }[] = [];
    for (const streamSeq of streamSeqs) {
      let stored: StoredMsg;
      try {
        stored = await jsm.streams.getMessage(Streams.metrics, { seq: streamSeq });
      } catch {
        continue; // Discarded by the stream's limits since it was read: nothing left to store.
      }
      const checked = await verifyIdentity(this.identities, decode(stored, stored.time.getTime()));
      if (!checked.ok) {
        if (checked.reason === RejectReasons.unverifiable) throw new Interrupted();
        // Refused content was parked when the consumer judged it; not parked twice here.
        continue;
      }
      const batch = checked.verified.batch;
      accepted.push({
        candidate: { agentId: batch.agentId, seq: batch.seq, streamSeq },
        verified: checked.verified,
      });
    }
    if (!accepted.length) return [];
    try {
      const result = await this.writer.writeBatch(accepted.map((a) => a.verified));
      return this.recordStored(accepted, result.stored);
    } catch {
      if (!(await this.repository.acceptsWrites(this.clock.now()))) throw new Interrupted();
      // The database refuses one of these for its own reasons: store the others, and leave that one (it was parked).
      const stored = new Set<string>();
      for (const a of accepted) {
        try {
          for (const key of (await this.writer.writeBatch([a.verified])).stored) stored.add(key);
        } catch (single) {
          this.logger.warn(
            { err: single, streamSeq: a.candidate.streamSeq },
            'metrics audit: the database refuses this batch; left to the dead-letter stream',
          );
        }
      }
      return this.recordStored(accepted, stored);
    }
  }

  private recordStored(accepted: { candidate: Candidate }[], stored: Set<string>): Candidate[] {
    const repaired = accepted.map((a) => a.candidate).filter((c) => stored.has(`${c.agentId}:${c.seq}`));
    this.metrics.auditRepaired.inc(repaired.length);
    return repaired;
  }
}

/** (agent, seq) of a metrics message from its subject and msgID (`<agentId>:<seq>`), as agents publish them. */
function batchKeyOf(msg: JsMsg): Candidate | undefined {
  const subject = parseAgentSubject(msg.subject);
  const id = msg.headers?.get('Nats-Msg-Id');
  if (!subject || !id) return undefined;
  const colon = id.lastIndexOf(':');
  const seq = Number(id.slice(colon + 1));
  if (colon < 0 || id.slice(0, colon) !== subject.agentId || !Number.isSafeInteger(seq)) return undefined;
  return { agentId: subject.agentId, seq, streamSeq: msg.seq };
}
