import { Injectable, Logger } from '@nestjs/common';
import { JsMsg } from 'nats';
import { parseAgentSubject } from '@app/contracts';
import { AgentIdentityChecker, IdentityOutcome, RejectReasons } from '../identity/agent-identity-checker';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { checkMetricsBatch } from '../wire/agent-message-checks';
import { DeadLetterParker } from './dead-letter';
import { MetricsRepository } from './metrics.repository';
import { MetricsWriter, VerifiedBatch } from './metrics-writer';

/** Redelivery delay when the token service cannot answer or storage failed. */
export const RETRY_DELAY_MS = 2000;
/**
 * A message that fails to store on its own while the database answers pings is retried this
 * many deliveries before it is parked as `storage_rejected` (a transient error gets its chances).
 */
const STORAGE_ATTEMPTS_BEFORE_PARKING = 3;

export interface IngestOutcome {
  /** Storage or the token service is unreachable: the caller pauses before fetching again. */
  pause: boolean;
}

type Checked =
  | { msg: JsMsg; ok: true; verified: VerifiedBatch }
  | { msg: JsMsg; ok: false; reason: string; detail?: string };
type Decoded =
  | {
      msg: JsMsg;
      ok: true;
      environment: string;
      agentId: string;
      body: VerifiedBatch['batch'];
    }
  | { msg: JsMsg; ok: false; reason: string; detail?: string };

/**
 * One fetched batch of metrics messages, top to bottom: decode and check every message →
 * find each agent's organisation (one await for the batch) → write all accepted samples in one
 * transaction → ack. Bad messages are parked on the dead-letter stream and acked; messages
 * that cannot be judged now (token service silent) or stored now (database down) are handed
 * back to JetStream with a delay.
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
  ) {}

  async ingest(messages: JsMsg[]): Promise<IngestOutcome> {
    this.metrics.received.inc({ kind: 'metrics' }, messages.length);
    this.metrics.batchMessages.observe(messages.length);

    const decoded = messages.map(decode);
    const checked = await Promise.all(decoded.map((d) => this.verify(d)));

    const accepted: Extract<Checked, { ok: true }>[] = [];
    const parked: Extract<Checked, { ok: false }>[] = [];
    let unverifiable = 0;
    for (const c of checked) {
      if (c.ok) accepted.push(c);
      else if (c.reason === RejectReasons.unverifiable) {
        unverifiable++;
        this.metrics.rejected.inc({ kind: 'metrics', reason: c.reason });
        c.msg.nak(RETRY_DELAY_MS);
      } else parked.push(c);
    }

    await this.park(parked);
    const stored = accepted.length ? await this.store(accepted) : { pause: false };
    // Every message waiting on a silent token service: fetching more now would only hand them back.
    return { pause: stored.pause || (unverifiable > 0 && !accepted.length && !parked.length) };
  }

  private verify(d: Decoded): Checked | Promise<Checked> {
    if (!d.ok) return d;
    const outcome = this.identities.check(d.environment, d.agentId);
    const judge = (o: IdentityOutcome): Checked =>
      o.ok
        ? {
            msg: d.msg,
            ok: true,
            verified: { batch: d.body, organizationId: o.organizationId, environment: d.environment },
          }
        : { msg: d.msg, ok: false, reason: o.reason };
    return outcome instanceof Promise ? outcome.then(judge) : judge(outcome);
  }

  private async store(accepted: Extract<Checked, { ok: true }>[]): Promise<IngestOutcome> {
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
      return { pause: false };
    } catch (error) {
      this.metrics.storageFailures.inc();
      if (!(await this.repository.ping())) {
        this.logger.warn(
          { err: error, messages: accepted.length },
          'database unavailable; pausing metrics consumption',
        );
        for (const a of accepted) a.msg.nak(RETRY_DELAY_MS);
        return { pause: true };
      }
      // The database answers, so something in this batch may be unstorable: try message by message.
      return this.storeOneByOne(accepted);
    }
  }

  private async storeOneByOne(accepted: Extract<Checked, { ok: true }>[]): Promise<IngestOutcome> {
    const failed: { a: Extract<Checked, { ok: true }>; error: unknown }[] = [];
    for (const a of accepted) {
      try {
        const result = await this.writer.writeBatch([a.verified]);
        a.msg.ack();
        this.metrics.accepted.inc({ kind: 'metrics' });
        this.metrics.samplesStored.inc(result.samples);
        this.metrics.batchesStored.inc(result.stored.size);
      } catch (error) {
        failed.push({ a, error });
      }
    }
    // Nothing at all could be written although the database answers pings (a schema or permission
    // fault): that is an outage of storage, not a set of poison messages.
    if (accepted.length > 1 && failed.length === accepted.length) {
      this.logger.warn({ err: failed[0].error }, 'no batch can be stored; pausing metrics consumption');
      for (const { a } of failed) a.msg.nak(RETRY_DELAY_MS);
      return { pause: true };
    }
    for (const { a, error } of failed) {
      if (a.msg.info.redeliveryCount < STORAGE_ATTEMPTS_BEFORE_PARKING) {
        a.msg.nak(RETRY_DELAY_MS);
        continue;
      }
      this.logger.error({ err: error, subject: a.msg.subject }, 'metrics batch cannot be stored; parking it');
      await this.park([
        { msg: a.msg, ok: false, reason: RejectReasons.storageRejected, detail: String(error) },
      ]);
    }
    return { pause: false };
  }

  /** Dead-letters then acks; a message whose parking failed is handed back, never dropped. */
  private async park(parked: Extract<Checked, { ok: false }>[]): Promise<void> {
    if (!parked.length) return;
    await Promise.all(
      parked.map(async (p) => {
        this.metrics.rejected.inc({ kind: 'metrics', reason: p.reason });
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

function decode(msg: JsMsg): Decoded {
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
  const check = checkMetricsBatch(body);
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
