import { Logger } from '@nestjs/common';
import { JetStreamClient, JsMsg } from 'nats';
import { Clock } from '@app/clock';
import { Consumers, Streams } from '@app/contracts';
import { parkOnDeadLetter } from '@app/messaging';
import { AgentIdentityChecker, RejectReasons } from '../identity/agent-identity-checker';
import { decode, Refused } from '../metrics/metrics-ingestor';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { AgentFactsDirectory } from './agent-facts.directory';
import { toRemoteSeries } from './remote-series';
import { RemoteWriteClient } from './remote-write.client';
import { encodeWriteRequest } from './remote-write.encoder';

/** Dead-letter reason of a message the receiver refused with a 4xx other than 429. */
export const RECEIVER_REJECTED_REASON = 'receiver_rejected';

export interface ExportAttempt {
  /** Messages neither sent nor parked: their agent could not be looked up, or the receiver is unavailable. Still in hand. */
  held: JsMsg[];
  /** Why, for the one log line of the outage. */
  reason?: string;
}

type Ready = { msg: JsMsg; series: ReturnType<typeof toRemoteSeries> };

/**
 * One pass over a batch of AGENT_METRICS messages for the remote-write sink: decode and check each →
 * find its agent (organisation from the identity checker, type/host/labels from the registry) → send
 * every sample in one request → ack. Bad messages and messages the receiver refuses are parked on
 * `deadletter.remote-write` and acked; what cannot be looked up or sent now is handed back, in hand.
 */
export class RemoteWriteExporter {
  private readonly logger = new Logger(RemoteWriteExporter.name);

  constructor(
    private readonly identities: AgentIdentityChecker,
    private readonly facts: AgentFactsDirectory,
    private readonly client: RemoteWriteClient,
    private readonly js: JetStreamClient,
    private readonly metrics: IngestionMetrics,
    private readonly clock: Clock,
  ) {}

  async attempt(messages: JsMsg[]): Promise<ExportAttempt> {
    const now = this.clock.now();
    const held: JsMsg[] = [];
    let reason: string | undefined;
    const parked: Refused[] = [];
    const ready: Ready[] = [];
    await Promise.all(
      messages.map(async (msg) => {
        const d = decode(msg, now);
        if (!d.ok) return parked.push(d);
        const identity = await this.identities.check(d.environment, d.agentId);
        if (!identity.ok) {
          if (identity.reason !== RejectReasons.unverifiable)
            return parked.push({ msg, ok: false, reason: identity.reason });
          reason = 'the token service did not answer';
          return held.push(msg);
        }
        try {
          const facts = await this.facts.describe(identity.organizationId, d.agentId);
          const series = toRemoteSeries(d.body, {
            organizationId: identity.organizationId,
            environment: d.environment,
            agentId: d.agentId,
            agentType: facts?.agentType,
            hostname: facts?.hostname,
            labels: facts?.labels ?? {},
          });
          ready.push({ msg, series });
        } catch (error) {
          reason = `the registry did not answer: ${String(error)}`;
          held.push(msg);
        }
      }),
    );
    await this.park(parked);
    if (!ready.length) return { held, reason };
    // Promise.all finished out of order: send in stream order, so each series' samples stay in time order.
    ready.sort((a, b) => a.msg.seq - b.msg.seq);
    const sent = await this.send(ready);
    return sent.held.length ? { held: held.concat(sent.held), reason: sent.reason } : { held, reason };
  }

  private async send(ready: Ready[]): Promise<ExportAttempt> {
    const series = ready.flatMap((r) => r.series);
    const result = await this.client.send(encodeWriteRequest(series));
    if (result.ok) {
      this.metrics.remoteWriteRequests.inc({ outcome: 'ok' });
      this.metrics.remoteWriteSamples.inc(series.reduce((n, s) => n + s.samples.length, 0));
      for (const r of ready) r.msg.ack();
      return { held: [] };
    }
    if (result.retry) {
      this.metrics.remoteWriteRequests.inc({ outcome: 'retry' });
      return { held: ready.map((r) => r.msg), reason: result.reason };
    }
    this.metrics.remoteWriteRequests.inc({ outcome: 'rejected' });
    if (ready.length === 1) {
      await this.park([
        { msg: ready[0].msg, ok: false, reason: RECEIVER_REJECTED_REASON, detail: result.reason },
      ]);
      return { held: [] };
    }
    // Which message did it refuse? Each on its own: the refused are parked, the rest go through
    // (receivers take a sample they already have, same time and value, without complaint).
    const held: JsMsg[] = [];
    let reason: string | undefined;
    for (const r of ready) {
      const one = await this.send([r]);
      held.push(...one.held);
      reason ??= one.reason;
    }
    return { held, reason };
  }

  /** Dead-letters then acks; a message whose parking failed is handed back, never dropped. */
  private async park(parked: Refused[]): Promise<void> {
    await Promise.all(
      parked.map(async (p) => {
        try {
          await parkOnDeadLetter(this.js, Consumers.remoteWrite, {
            subject: p.msg.subject,
            data: p.msg.data,
            headers: p.msg.headers,
            reason: p.reason,
            detail: p.detail,
            msgId: `${Consumers.remoteWrite}:${Streams.metrics}:${p.msg.seq}`,
          });
          p.msg.ack();
          this.metrics.deadLettered.inc();
        } catch (error) {
          this.logger.warn({ err: error }, 'dead-letter publish failed; message will be redelivered');
          p.msg.nak(2000);
        }
      }),
    );
  }
}
