import { Inject, Injectable, Logger } from '@nestjs/common';
import { JSONCodec, NatsConnection } from 'nats';
import {
  Consumers,
  EventEnvelope,
  EventKinds,
  Subjects,
  TokenIssuedData,
  TokenRevokedData,
  TokenRotatedData,
} from '@app/contracts';
import { DurableEventConsumer, NATS_CONNECTION, PoisonEventError } from '@app/messaging';
import { ProvisioningConfig } from '../config';
import { AuditRow } from '../database';
import { AuditRepository } from './audit.repository';

type TokenEventData = Partial<TokenIssuedData & TokenRevokedData & TokenRotatedData>;
const json = JSONCodec<EventEnvelope<TokenEventData>>();

/**
 * The audit log's token entries. The token service records every change to a token or API key as an
 * event (in the change's own transaction, through its outbox), naming who asked; this durable
 * consumer `provisioning-token-audit` of `events.token.*` writes one audit row per event, with the event
 * id as the row id, so a redelivery adds nothing. A token issued as a rotation's replacement is covered
 * by the rotation's entry. Malformed events are parked on `deadletter.provisioning-token-audit`.
 */
@Injectable()
export class TokenAuditConsumer extends DurableEventConsumer {
  protected readonly logger = new Logger(TokenAuditConsumer.name);

  constructor(
    private readonly repository: AuditRepository,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    config: ProvisioningConfig,
  ) {
    super(nc, {
      name: Consumers.tokenAudit,
      filterSubject: Subjects.event('token.*'),
      maxFailures: 5,
      eventsReplicas: config.EVENTS_STREAM_REPLICAS,
      deadLetterReplicas: config.DEAD_LETTER_STREAM_REPLICAS,
    });
  }

  protected async handle(data: Uint8Array): Promise<void> {
    let row: AuditRow | null;
    try {
      row = auditRowOf(json.decode(data));
    } catch (error) {
      throw new PoisonEventError(error instanceof Error ? error.message : 'event is not JSON');
    }
    if (row) await this.repository.insertOnce(row);
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
