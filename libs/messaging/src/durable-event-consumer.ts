import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, ConsumerMessages, DeliverPolicy, JsMsg, NatsConnection } from 'nats';
import { isDependencyUnavailable, Streams } from '@app/contracts';
import { parkOnDeadLetter } from './dead-letter';
import { ensureDeadLetterStream, ensureEventsStream, whileJetStreamSettles } from './streams';

/** An event that can never be handled (malformed, incomplete): parked at once with this reason. */
export class PoisonEventError extends Error {}

export interface DurableEventConsumerSpec {
  /** The durable consumer's name, shared by every instance of the service; also its dead-letter source. */
  name: string;
  /** `events.<…>` subjects it reads. */
  filterSubject: string;
  /** Deliveries failing for a reason other than an outage before the event is parked. */
  maxFailures: number;
  eventsReplicas?: number;
  deadLetterReplicas?: number;
}

/** Retry delay after a failure: 2 s doubling up to 30 s. */
const RETRY_DELAY_MS = 2000;
const RETRY_DELAY_MAX_MS = 30_000;

/**
 * A service's durable consumer of EVENTS, for every instance of it (each event is handled once across
 * them). `handle` acks by returning; throwing PoisonEventError parks the event on
 * `deadletter.<name>` at once; any other failure is retried with a growing delay and parked after
 * `maxFailures` deliveries, except a dependency outage (the database down), which is waited out
 * however long: redelivery is unbounded, so nothing is dropped.
 */
export abstract class DurableEventConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  protected abstract readonly logger: Logger;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  protected constructor(
    protected readonly nc: NatsConnection,
    private readonly spec: DurableEventConsumerSpec,
  ) {}

  /** Handles one event; resolves when it is done (then acked). */
  protected abstract handle(data: Uint8Array, message: JsMsg): Promise<void>;

  async onApplicationBootstrap(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await ensureEventsStream(jsm, { replicas: this.spec.eventsReplicas });
    await ensureDeadLetterStream(jsm, { replicas: this.spec.deadLetterReplicas });
    await whileJetStreamSettles(() =>
      jsm.consumers.add(Streams.events, {
        durable_name: this.spec.name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: this.spec.filterSubject,
        // Unbounded (this also updates a consumer made with a bound, which made JetStream drop events).
        max_deliver: -1,
      }),
    );
    const consumer = await whileJetStreamSettles(() =>
      this.nc.jetstream().consumers.get(Streams.events, this.spec.name),
    );
    const messages = await consumer.consume({ max_messages: 100 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const message of messages) await this.process(message);
    })().catch((error: unknown) => this.logger.error({ err: error }, `${this.spec.name} stopped`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async process(message: JsMsg): Promise<void> {
    try {
      await this.handle(message.data, message);
      message.ack();
    } catch (error) {
      if (error instanceof PoisonEventError) return this.park(message, error.message);
      const deliveries = message.info.deliveryCount;
      const outage = isDependencyUnavailable(error);
      if (!outage && deliveries >= this.spec.maxFailures) {
        return this.park(message, `failed ${deliveries} deliveries: ${String(error)}`);
      }
      if (!outage)
        this.logger.error({ err: error, seq: message.seq }, 'could not handle an event; will retry');
      message.nak(Math.min(RETRY_DELAY_MS * 2 ** (deliveries - 1), RETRY_DELAY_MAX_MS));
    }
  }

  private async park(message: JsMsg, reason: string): Promise<void> {
    try {
      await parkOnDeadLetter(this.nc.jetstream(), this.spec.name, {
        subject: message.subject,
        data: message.data,
        reason,
        msgId: `${this.spec.name}:${message.seq}`,
      });
      this.logger.warn(
        { subject: message.subject, seq: message.seq, reason },
        'event parked on the dead-letter stream',
      );
      message.term();
    } catch (error) {
      // JetStream itself failing: redelivered later.
      this.logger.error({ err: error, seq: message.seq, reason }, 'could not park event; will retry');
      message.nak(RETRY_DELAY_MS);
    }
  }
}
