import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, ConsumerMessages, DeliverPolicy, JSONCodec, JsMsg, NatsConnection } from 'nats';
import {
  AgentLivenessData,
  Consumers,
  EventEnvelope,
  EventKinds,
  isDependencyUnavailable,
  Streams,
  Subjects,
} from '@app/contracts';
import {
  ensureDeadLetterStream,
  ensureEventsStream,
  NATS_CONNECTION,
  parkOnDeadLetter,
  whileJetStreamSettles,
} from '@app/messaging';
import { RegistryService } from './registry.service';
import { ProvisioningConfig } from '../config';

/** Shared by every provisioning instance, so each event is applied once across them. */
export const AGENT_STATUS_CONSUMER = Consumers.agentStatus;
/**
 * An event failing this many deliveries for a reason other than an outage is parked on DEAD_LETTER.
 * The consumer itself redelivers without limit: a database outage is waited out, however long.
 */
const MAX_DELIVERIES = 5;
/** Retry delay after a failure: 2 s doubling up to 30 s. */
const RETRY_DELAY_MS = 2000;
const RETRY_DELAY_MAX_MS = 30_000;

const json = JSONCodec<EventEnvelope<AgentLivenessData>>();

/**
 * Keeps the registry's status in step with ingestion's liveness: a durable JetStream consumer on
 * `events.agent.*`, applying `agent.online` / `agent.offline` and acking after the write. An event
 * that cannot be applied (malformed, or failing on its last delivery) is parked on
 * `deadletter.provisioning-agent-status` with the reason, not dropped.
 */
@Injectable()
export class AgentStatusConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AgentStatusConsumer.name);
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(
    private readonly registry: RegistryService,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly config: ProvisioningConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await ensureEventsStream(jsm, { replicas: this.config.EVENTS_STREAM_REPLICAS });
    await ensureDeadLetterStream(jsm, { replicas: this.config.DEAD_LETTER_STREAM_REPLICAS });
    await whileJetStreamSettles(() =>
      jsm.consumers.add(Streams.events, {
        durable_name: AGENT_STATUS_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        // agent.registered / agent.revoked also match; they are acked and skipped.
        filter_subject: Subjects.event('agent.*'),
        // Unbounded (this also updates a consumer made with the old bound of 5, which dropped events).
        max_deliver: -1,
      }),
    );
    const consumer = await whileJetStreamSettles(() =>
      this.nc.jetstream().consumers.get(Streams.events, AGENT_STATUS_CONSUMER),
    );
    this.messages = await consumer.consume({ max_messages: 100 });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const message of messages) await this.handle(message);
    })().catch((error: unknown) => this.logger.error({ err: error }, 'agent status consumer stopped'));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async handle(message: JsMsg): Promise<void> {
    let event: EventEnvelope<AgentLivenessData>;
    try {
      event = json.decode(message.data);
    } catch {
      await this.park(message, 'event is not JSON');
      return;
    }
    if (event.kind !== EventKinds.agentOnline && event.kind !== EventKinds.agentOffline) {
      message.ack();
      return;
    }
    if (!event.agentId || !event.organizationId || typeof event.data?.lastSeenAt !== 'number') {
      await this.park(message, 'liveness event without agentId, organizationId or data.lastSeenAt');
      return;
    }
    try {
      const status = event.kind === EventKinds.agentOnline ? 'online' : 'offline';
      await this.registry.applyLiveness(event.organizationId, event.agentId, status, event.data.lastSeenAt);
      message.ack();
    } catch (error) {
      const deliveries = message.info.deliveryCount;
      const outage = isDependencyUnavailable(error);
      if (!outage && deliveries >= MAX_DELIVERIES) {
        await this.park(message, `could not apply after ${deliveries} deliveries: ${String(error)}`);
        return;
      }
      if (!outage)
        this.logger.error({ err: error, id: event.id }, 'could not apply liveness event; will retry');
      message.nak(Math.min(RETRY_DELAY_MS * 2 ** (deliveries - 1), RETRY_DELAY_MAX_MS));
    }
  }

  private async park(message: JsMsg, reason: string): Promise<void> {
    try {
      await parkOnDeadLetter(this.nc.jetstream(), AGENT_STATUS_CONSUMER, {
        subject: message.subject,
        data: message.data,
        reason,
        msgId: `${AGENT_STATUS_CONSUMER}:${message.seq}`,
      });
      this.logger.warn(
        { subject: message.subject, seq: message.seq, reason },
        'event parked on the dead-letter stream',
      );
      message.term();
    } catch (error) {
      // JetStream itself failing: redelivered while deliveries remain.
      this.logger.error({ err: error, seq: message.seq, reason }, 'could not park event; will retry');
      message.nak(RETRY_DELAY_MS);
    }
  }
}
