import { Logger } from 'pino';
import { MetricSample, MetricsBatch } from '@app/contracts';
import { AgentSequence } from './agent-sequence';
import { AgentIdentity, AgentWire } from './agent-wire';
import { MetricsBuffer, MetricsBufferLimits } from './metrics-buffer';

const utf8 = new TextEncoder();

/**
 * The metrics path: number a batch, queue it, send the queue oldest first with one acknowledged
 * JetStream publish at a time (so order is kept), stop at the first failure and resume on the next
 * call. A batch leaves the queue only once JetStream has stored it.
 */
export class MetricsPublisher {
  readonly buffer: MetricsBuffer;
  private flushing?: Promise<void>;

  constructor(
    private readonly wire: AgentWire,
    private readonly identity: AgentIdentity,
    private readonly sequence: AgentSequence,
    limits: MetricsBufferLimits,
    private readonly log: Logger,
  ) {
    this.buffer = new MetricsBuffer(limits);
  }

  /** Queues one collection as a batch and starts sending; does not wait for the ack. */
  enqueue(samples: MetricSample[], collectedAt: number): MetricsBatch {
    const batch: MetricsBatch = {
      agentId: this.identity.agentId,
      seq: this.sequence.take(),
      collectedAt,
      samples,
    };
    this.buffer.push({ seq: batch.seq, data: utf8.encode(JSON.stringify(batch)) });
    this.log.debug({ seq: batch.seq, samples: samples.length, buffered: this.buffer.size }, 'collected');
    // Not awaited: during an outage a publish waits for its ack timeout, and collection must go on meanwhile.
    void this.flush();
    return batch;
  }

  /** Sends what is queued; concurrent calls share one run. Resolves when the queue is empty or a publish failed. */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        for (let head = this.buffer.peek(); head && !this.wire.isClosed(); head = this.buffer.peek()) {
          try {
            await this.wire.publishMetrics(this.identity, head);
          } catch (error) {
            this.log.debug(
              { err: error, seq: head.seq, buffered: this.buffer.size },
              'metrics publish failed; kept in buffer',
            );
            return;
          }
          // The head may have been dropped for space while we waited; only remove what was acked.
          if (this.buffer.peek() === head) this.buffer.shift();
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }
}
