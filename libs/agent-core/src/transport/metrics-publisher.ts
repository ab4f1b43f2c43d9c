import { Logger } from 'pino';
import { MetricSample } from '@app/contracts';
import { AgentSequence } from './agent-sequence';
import { AgentIdentity, AgentWire } from './agent-wire';
import { encodeBatches } from './metrics-batches';
import { MetricsBuffer, MetricsBufferLimits } from './metrics-buffer';

/**
 * The metrics path: number a batch, queue it, send the queue oldest first with one acknowledged
 * JetStream publish at a time (so order is kept), stop at the first failure and resume on the next
 * call. A batch leaves the queue only once JetStream has stored it.
 */
export class MetricsPublisher {
  readonly buffer: MetricsBuffer;
  private flushing?: Promise<void>;
  /** Bumped by resend(): a run from an older round stops at its next step and removes nothing. */
  private round = 0;
  /** Failed publishes since the last success; only the first of a streak is logged above debug. */
  private failures = 0;

  constructor(
    private readonly wire: AgentWire,
    private readonly identity: AgentIdentity,
    private readonly sequence: AgentSequence,
    limits: MetricsBufferLimits,
    private readonly log: Logger,
  ) {
    this.buffer = new MetricsBuffer(limits);
  }

  /**
   * Queues one collection as one batch, or as several when it is larger than one batch may be (a big
   * scrape target), and starts sending; does not wait for the ack. Returns the batches' sequence numbers.
   */
  enqueue(samples: MetricSample[], collectedAt: number): number[] {
    const batches = encodeBatches(this.identity.agentId, collectedAt, samples, () => this.sequence.take());
    for (const batch of batches) this.buffer.push(batch);
    this.log.debug(
      { seq: batches.map((b) => b.seq), samples: samples.length, buffered: this.buffer.size },
      'collected',
    );
    // Not awaited: during an outage a publish waits for its ack timeout, and collection must go on meanwhile.
    void this.flush();
    return batches.map((b) => b.seq);
  }

  /** Sends what is queued; concurrent calls share one run. Resolves when the queue is empty or a publish failed. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const run = this.send(this.round).finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    this.flushing = run;
    return run;
  }

  /**
   * Starts sending again from the head without waiting for the publish in flight: after a reconnect
   * that publish's reply is usually lost with the old connection, and waiting for its timeout would
   * hold every batch behind it. Sending the head twice is safe: JetStream drops the second copy by
   * its Nats-Msg-Id, and ingestion by its (agent, seq) key.
   */
  resend(): Promise<void> {
    this.round++;
    this.flushing = undefined;
    return this.flush();
  }

  private async send(round: number): Promise<void> {
    for (let head = this.buffer.peek(); head && !this.wire.isClosed(); head = this.buffer.peek()) {
      try {
        await this.wire.publishMetrics(this.identity, head);
      } catch (error) {
        if (round !== this.round) return;
        this.failures++;
        const details = { err: error, seq: head.seq, buffered: this.buffer.size };
        if (this.failures === 1) this.log.warn(details, 'metrics publish failed; keeping batches buffered');
        else this.log.debug(details, 'metrics publish failed; kept in buffer');
        return;
      }
      if (round !== this.round) return;
      if (this.failures) this.log.info({ failures: this.failures }, 'metrics publishing again');
      this.failures = 0;
      // The head may have been dropped for space while we waited; only remove what was acked.
      if (this.buffer.peek() === head) this.buffer.shift();
    }
  }
}
