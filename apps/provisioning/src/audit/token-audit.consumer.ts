import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, ConsumerMessages, DeliverPolicy, JSONCodec, JsMsg, NatsConnection } from 'nats';
import {
  Consumers,
  EventEnvelope,
  EventKinds,
  isDependencyUnavailable,
  Streams,
  Subjects,
  TokenIssuedData,
  TokenRevokedData,
  TokenRotatedData,
} from '@app/contracts';
import {
  ensureDeadLetterStream,
  ensureEventsStream,
  NATS_CONNECTION,
  parkOnDeadLetter,
  whileJetStreamSettles,
} from '@app/messaging';
import { ProvisioningConfig } from '../config';
import { AuditRow } from '../database';
import { AuditRepository } from './audit.repository';

const RETRY_DELAY_MS = 2000;
const RETRY_DELAY_MAX_MS = 30_000;
/** Failures other than an outage before an event is parked. */
const MAX_DELIVERIES = 5;

type TokenEventData = Partial<TokenIssuedData & TokenRevokedData & TokenRotatedData>;
const json = JSONCodec<EventEnvelope<TokenEventData>>();

/**
 * The audit log's token entries. The token service records every change to a token or API key as an
 * event (in the change's own transaction, through its outbox), naming who asked; this durable
 * consumer of `events.token.*` writes one audit row per event, with the event id as the row id, so a
 * redelivery adds nothing. A token issued as a rotation's replacement is covered by the rotation's
 * entry. Malformed events are parked on `deadletter.provisioning-token-audit`.
 */
@Injectable()
export class TokenAuditConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TokenAuditConsumer.name);
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(
    private readonly repository: AuditRepository,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly config: ProvisioningConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await ensureEventsStream(jsm, { replicas: this.config.EVENTS_STREAM_REPLICAS });
    await ensureDeadLetterStream(jsm, { replicas: this.config.DEAD_LETTER_STREAM_REPLICAS });
    await whileJetStreamSettles(() =>
      jsm.consumers.add(Streams.events, {
        durable_name: Consumers.tokenAudit,
        ack_policy: AckPolicy.Explicit,
        // What EVENTS still holds is audited too: changes made before this consumer existed.
        deliver_policy: DeliverPolicy.All,
        filter_subject: Subjects.event('token.*'),
        max_deliver: -1,
      }),
    );
    const consumer = await whileJetStreamSettles(() =>
      this.nc.jetstream().consumers.get(Streams.events, Consumers.tokenAudit),
    );
    this.messages = await consumer.consume({ max_messages: 100 });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const message of messages) await this.handle(message);
    })().catch((error: unknown) => this.logger.error({ err: error }, 'token audit consumer stopped'));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async handle(message: JsMsg): Promise<void> {
    let row: AuditRow | null;
    try {
      row = auditRowOf(json.decode(message.data));
    } catch (error) {
      await this.park(message, error instanceof Error ? error.message : 'event is not JSON');
      return;
    }
    try {
      if (row) await this.repository.insertOnce(row);
      message.ack();
    } catch (error) {
      const deliveries = message.info.deliveryCount;
      const outage = isDependencyUnavailable(error);
      if (!outage && deliveries >= MAX_DELIVERIES) {
        await this.park(message, `could not record after ${deliveries} deliveries: ${String(error)}`);
        return;
      }
      if (!outage)
        this.logger.error({ err: error, seq: message.seq }, 'could not record a token change; will retry');
      message.nak(Math.min(RETRY_DELAY_MS * 2 ** (deliveries - 1), RETRY_DELAY_MAX_MS));
    }
  }

  private async park(message: JsMsg, reason: string): Promise<void> {
    try {
      await parkOnDeadLetter(this.nc.jetstream(), Consumers.tokenAudit, {
        subject: message.subject,
        data: message.data,
        reason,
        msgId: `${Consumers.tokenAudit}:${message.seq}`,
      });
      this.logger.warn(
        { subject: message.subject, seq: message.seq, reason },
        'event parked on the dead-letter stream',
      );
      message.term();
    } catch (error) {
      this.logger.error({ err: error, seq: message.seq, reason }, 'could not park event; will retry');
      message.nak(RETRY_DELAY_MS);
    }
  }
}

/** The audit row for a token event; null when the event needs none (a rotation's replacement). Throws when malformed. */
export function auditRowOf(event: EventEnvelope<TokenEventData>): AuditRow | null {
  const data = event?.data;
  if (!event?.id || !event.organizationId || !data?.tokenId || Number.isNaN(Date.parse(event.occurredAt)))
    throw new Error('token event without id, organizationId, occurredAt or data.tokenId');
  if (event.kind === EventKinds.tokenIssued && data.replaces) return null;
  const { tokenId, actor, ...details } = data;
  return {
    id: `event:${event.id}`,
    organization_id: event.organizationId,
    at: Date.parse(event.occurredAt),
    actor: actor ?? 'system',
    action: event.kind,
    target_type: 'token',
    target_id: tokenId,
    details: JSON.stringify({ ...details, ...(event.environment ? { environment: event.environment } : {}) }),
  };
}
