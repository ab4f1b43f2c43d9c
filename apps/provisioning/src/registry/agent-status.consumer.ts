import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, ConsumerMessages, DeliverPolicy, JSONCodec, JsMsg, NatsConnection } from 'nats';
import {
  AgentLivenessData,
  EventEnvelope,
  EventKinds,
  isDependencyUnavailable,
  Streams,
  Subjects,
} from '@app/contracts';
import { ensureEventsStream, NATS_CONNECTION, whileJetStreamSettles } from '@app/messaging';
import { RegistryService } from './registry.service';
import { ProvisioningConfig } from '../config';

/** Shared by every provisioning instance, so each event is applied once across them. */
export const AGENT_STATUS_CONSUMER = 'provisioning-agent-status';
/** A database hiccup is retried this often before the event is given up (status then follows the next one). */
const MAX_DELIVERIES = 5;
const RETRY_DELAY_MS = 2000;

const json = JSONCodec<EventEnvelope<AgentLivenessData>>();

/**
 * Keeps the registry's status in step with ingestion's liveness: a durable JetStream consumer on
 * `events.agent.*`, applying `agent.online` / `agent.offline` and acking after the write.
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
    await whileJetStreamSettles(() =>
      jsm.consumers.add(Streams.events, {
        durable_name: AGENT_STATUS_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        // agent.registered / agent.revoked also match; they are acked and skipped.
        filter_subject: Subjects.event('agent.*'),
        max_deliver: MAX_DELIVERIES,
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
    } catch (error) {
      this.logger.warn({ err: error, subject: message.subject }, 'unparsable event dropped');
      message.term();
      return;
    }
    if (event.kind !== EventKinds.agentOnline && event.kind !== EventKinds.agentOffline) {
      message.ack();
      return;
    }
    if (!event.agentId || !event.organizationId || typeof event.data?.lastSeenAt !== 'number') {
      this.logger.warn(
        { id: event.id, kind: event.kind },
        'liveness event without agent, organisation or lastSeenAt dropped',
      );
      message.term();
      return;
    }
    try {
      const status = event.kind === EventKinds.agentOnline ? 'online' : 'offline';
      await this.registry.applyLiveness(event.organizationId, event.agentId, status, event.data.lastSeenAt);
      message.ack();
    } catch (error) {
      if (!isDependencyUnavailable(error))
        this.logger.error({ err: error, id: event.id }, 'could not apply liveness event; will retry');
      message.nak(RETRY_DELAY_MS);
    }
  }
}
