import { Logger } from '@nestjs/common';
import { backOff } from 'exponential-backoff';
import {
  AckPolicy,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamManager,
  JsMsg,
  NatsConnection,
  NatsError,
} from 'nats';
import { Consumers, Streams } from '@app/contracts';
import { whileJetStreamSettles } from '@app/messaging';
import { Clock } from '@app/clock';
import { BatchTaker, inProgressWhile } from '../metrics/metrics-consumer';
import { RemoteWriteExporter } from './remote-write.exporter';

/**
 * Messages per remote-write request: with agents' ~20 samples a batch that is ~2,000 samples, what
 * Prometheus's own remote-write queue sends at most per request (max_samples_per_send).
 */
export const REMOTE_WRITE_BATCH_MESSAGES = 100;
const PREFETCH_MESSAGES = 2 * REMOTE_WRITE_BATCH_MESSAGES;
/** Same reasons as the store consumer's pull (metrics-consumer.ts). */
const PULL_EXPIRES_MS = 4000;
const ACK_WAIT_SECONDS = 10;
/**
 * Retry of a batch whose receiver or lookups are unavailable: 0.5 s doubling to 5 s with full jitter
 * (Prometheus's own queue manager backs off to 5 s too), for as long as it takes: the messages stay in
 * hand meanwhile, so an outage loses nothing and costs them no delivery. 5 s also bounds how long stop() waits.
 */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;
/** Pause before reopening the pull after the consumer itself failed (JetStream unavailable). */
const REOPEN_PAUSE_MS = 2000;

class HeldBatch extends Error {}

/**
 * The remote-write sink's durable consumer on AGENT_METRICS (its own, beside ingestion's `ingestion`
 * consumer for the store, so each sink keeps its own place): take a batch → export it, retrying with
 * backoff while the receiver is down → repeat. Every instance shares it; JetStream spreads batches.
 */
export class RemoteWriteConsumer {
  private readonly logger = new Logger(RemoteWriteConsumer.name);
  private running?: Promise<void>;
  private stopping = false;
  private messages?: ConsumerMessages;

  constructor(
    private readonly nc: NatsConnection,
    private readonly exporter: RemoteWriteExporter,
    private readonly clock: Clock,
  ) {}

  start(): void {
    this.stopping = false;
    this.running ??= this.loop();
  }

  /** Ends the batch in hand (sent, or nak'ed for the next instance), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.running;
    this.running = undefined;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.nc.jetstream().consumers.get(Streams.metrics, Consumers.remoteWrite);
        this.messages = await consumer.consume({ max_messages: PREFETCH_MESSAGES, expires: PULL_EXPIRES_MS });
        if (this.stopping) break;
        await this.drain(this.messages);
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn({ err: error }, 'remote-write consumer failed; starting it again after a pause');
        await new Promise((resolve) => setTimeout(resolve, REOPEN_PAUSE_MS));
      } finally {
        this.messages?.stop();
        this.messages = undefined;
      }
    }
  }

  private async drain(messages: ConsumerMessages): Promise<void> {
    const batches = new BatchTaker(messages[Symbol.asyncIterator](), REMOTE_WRITE_BATCH_MESSAGES);
    for (let batch = await batches.take(); batch.length; batch = await batches.take()) {
      const held = await inProgressWhile(batch, () => this.export(batch, messages));
      // Held messages stopped the pull (see export): reopen it once they are through.
      if (held || this.stopping) return;
    }
    if (!this.stopping) throw new Error('the remote-write consumer stopped delivering');
  }

  /** Exports the batch, however many attempts it takes; true when it had to be held. */
  private async export(batch: JsMsg[], messages: ConsumerMessages): Promise<boolean> {
    let pending = batch;
    let heldSince: number | undefined;
    try {
      await backOff(
        async () => {
          const attempt = await this.exporter.attempt(pending);
          pending = attempt.held;
          if (pending.length) throw new HeldBatch(attempt.reason);
        },
        {
          numOfAttempts: Number.MAX_SAFE_INTEGER,
          startingDelay: RETRY_FIRST_MS,
          maxDelay: RETRY_MAX_MS,
          jitter: 'full',
          retry: (error: unknown) => {
            if (!(error instanceof HeldBatch) || this.stopping) return false;
            if (heldSince === undefined) {
              heldSince = this.clock.now();
              // Pull nothing more while these wait: prefetched messages would outlive their ack wait.
              messages.stop();
              this.logger.warn(
                { messages: pending.length, reason: error.message },
                'remote-write held: the receiver or a lookup is unavailable; retrying with backoff',
              );
            }
            return true;
          },
        },
      );
    } catch (error) {
      // Stopping (or a bug): whatever is still in hand goes back for another instance or the next start.
      for (const msg of pending) msg.nak();
      if (!(error instanceof HeldBatch)) throw error;
    }
    if (heldSince !== undefined && !this.stopping)
      this.logger.log({ heldMs: this.clock.now() - heldSince }, 'remote-write resumed');
    return heldSince !== undefined;
  }
}

/**
 * Creates the remote-write consumer when missing. New messages only: enabling the sink on a running
 * platform does not replay a day of AGENT_METRICS at a receiver that would refuse most of it as too old.
 * Redelivery is unbounded (an outage holds the batch in hand rather than redelivering it; poison is parked).
 */
export async function ensureRemoteWriteConsumer(jsm: JetStreamManager): Promise<void> {
  await whileJetStreamSettles(async () => {
    try {
      await jsm.consumers.info(Streams.metrics, Consumers.remoteWrite);
    } catch (error) {
      if (!(error instanceof NatsError) || error.api_error?.err_code !== 10014) throw error;
      await jsm.consumers.add(Streams.metrics, {
        durable_name: Consumers.remoteWrite,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: ACK_WAIT_SECONDS * 1_000_000_000,
        max_ack_pending: 10 * PREFETCH_MESSAGES,
        max_deliver: -1,
      });
    }
  });
}
