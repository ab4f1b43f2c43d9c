import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import {
  AckPolicy,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamManager,
  JsMsg,
  JSONCodec,
  NatsConnection,
} from 'nats';
import { EventEnvelope, EventKinds, isDependencyUnavailable, Streams, Subjects } from '@app/contracts';
import {
  ensureDeadLetterStream,
  ensureEventsStream,
  whileJetStreamSettles,
  isJetStreamNotFound,
  NATS_CONNECTION,
  parkOnDeadLetter,
} from '@app/messaging';
import { AgentEvent, AlertEvaluator } from '../alerts/alert-evaluator';
import { AlertingMetrics } from '../health/alerting-metrics';
import { AlertingConfig } from '../config';

/** The durable JetStream consumer every alerting instance shares. */
export const ALERTING_CONSUMER = 'alerting';
/** Events pulled per fetch; they are handled one by one, in stream order. */
const FETCH_BATCH = 64;
/** How long a fetch waits for events; also the longest a shutdown waits for the loop. */
const FETCH_EXPIRES_MS = 1000;
/** A failing event is retried after this delay, up to MAX_DELIVER times, then parked. */
const RETRY_DELAY_MS = 1000;
const MAX_DELIVER = 20;
const ACK_WAIT_NS = 30 * 1_000_000_000;

const json = JSONCodec<unknown>();

/** An event that can never be handled (not JSON, no organisation, no agent, no time). */
class PoisonEventError extends Error {}

/**
 * Reads `events.agent.>` from the EVENTS stream through the durable consumer `alerting` and
 * hands each event to the evaluator; the event is acked only after the evaluator's transaction
 * committed, so a crash before the ack means a redelivery, which the evaluator absorbs. A
 * malformed event is parked on `deadletter.alerting` with the reason; a failing one is retried
 * with a delay and parked after MAX_DELIVER attempts, so nothing stops the consumer.
 */
@Injectable()
export class EventConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EventConsumer.name);
  private stopped = false;
  private loop?: Promise<void>;
  private batch?: ConsumerMessages;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly evaluator: AlertEvaluator,
    private readonly metrics: AlertingMetrics,
    private readonly config: AlertingConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await ensureEventsStream(jsm, { replicas: this.config.EVENTS_STREAM_REPLICAS });
    await ensureDeadLetterStream(jsm, { replicas: this.config.DEAD_LETTER_STREAM_REPLICAS });
    await whileJetStreamSettles(() => this.ensureConsumer(jsm));
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.batch?.stop();
    await this.loop;
  }

  private async ensureConsumer(jsm: JetStreamManager): Promise<void> {
    try {
      await jsm.consumers.info(Streams.events, ALERTING_CONSUMER);
    } catch (error) {
      if (!isJetStreamNotFound(error)) throw error;
      await jsm.consumers.add(Streams.events, {
        durable_name: ALERTING_CONSUMER,
        filter_subject: Subjects.agentEventsWildcard,
        ack_policy: AckPolicy.Explicit,
        // A first deployment starts from now: replaying a week of history would page people for old outages.
        deliver_policy: DeliverPolicy.New,
        ack_wait: ACK_WAIT_NS,
        max_deliver: MAX_DELIVER,
      });
    }
  }

  private async run(): Promise<void> {
    const consumer = await whileJetStreamSettles(() =>
      this.nc.jetstream().consumers.get(Streams.events, ALERTING_CONSUMER),
    );
    while (!this.stopped) {
      try {
        this.batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
        for await (const msg of this.batch) {
          if (this.stopped) {
            msg.nak();
            continue;
          }
          await this.process(msg);
        }
      } catch (error) {
        if (this.stopped) break;
        if (!isDependencyUnavailable(error)) this.logger.warn({ err: error }, 'event fetch failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
      }
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    let event: EventEnvelope;
    try {
      event = parseEvent(msg.data);
    } catch (error) {
      await this.park(msg, error instanceof Error ? error.message : String(error));
      return;
    }
    try {
      if (event.kind === EventKinds.agentEnrollmentFailed) {
        await this.evaluator.handleEnrollmentFailure(event);
      } else {
        if (!event.agentId) throw new PoisonEventError(`${event.kind} event without agentId`);
        await this.evaluator.handle(event as AgentEvent);
      }
      msg.ack();
      this.metrics.eventsHandled.inc({ outcome: 'handled' });
    } catch (error) {
      if (error instanceof PoisonEventError) return this.park(msg, error.message);
      if (msg.info.redeliveryCount >= MAX_DELIVER) {
        return this.park(msg, `gave up after ${MAX_DELIVER} attempts: ${String(error)}`);
      }
      this.logger.warn(
        { err: error, eventId: event.id, kind: event.kind },
        'alert evaluation failed; will retry',
      );
      msg.nak(RETRY_DELAY_MS);
      this.metrics.eventsHandled.inc({ outcome: 'retried' });
    }
  }

  private async park(msg: JsMsg, reason: string): Promise<void> {
    await parkOnDeadLetter(this.nc.jetstream(), ALERTING_CONSUMER, {
      subject: msg.subject,
      data: msg.data,
      reason,
    });
    this.logger.warn({ subject: msg.subject, reason }, 'event parked on the dead-letter stream');
    msg.term(reason);
    this.metrics.eventsHandled.inc({ outcome: 'parked' });
  }
}

function parseEvent(data: Uint8Array): EventEnvelope {
  let value: unknown;
  try {
    value = json.decode(data);
  } catch {
    throw new PoisonEventError('event is not JSON');
  }
  const event = value as Partial<EventEnvelope> | null;
  if (!event || typeof event !== 'object') throw new PoisonEventError('event is not an object');
  for (const field of ['id', 'kind', 'organizationId', 'occurredAt'] as const) {
    if (typeof event[field] !== 'string' || event[field] === '')
      throw new PoisonEventError(`event has no ${field}`);
  }
  if (Number.isNaN(Date.parse(event.occurredAt as string)))
    throw new PoisonEventError('event occurredAt is not a date');
  return event as EventEnvelope;
}
