import { randomUUID } from 'node:crypto';
import { JetStreamClient, JSONCodec, NatsConnection } from 'nats';
import { EventEnvelope, EventKind, Subjects } from '@app/contracts';
import { ConnectionState } from './connection-state';

const json = JSONCodec<EventEnvelope>();
const PUBLISH_TIMEOUT_MS = 5000;

export type NewEvent<T> = Omit<EventEnvelope<T>, 'id' | 'occurredAt'> & { id?: string; occurredAt?: string };

/**
 * Publishes facts to the EVENTS stream. The event id is the `Nats-Msg-Id`, so a retried
 * publish is stored once; the promise resolves when JetStream has persisted it.
 */
export class EventPublisher {
  private readonly js: JetStreamClient;
  private readonly link: ConnectionState;

  constructor(nc: NatsConnection) {
    this.js = nc.jetstream();
    this.link = ConnectionState.of(nc);
  }

  async publish<T>(event: NewEvent<T> & { kind: EventKind }): Promise<EventEnvelope<T>> {
    const envelope: EventEnvelope<T> = {
      ...event,
      id: event.id ?? randomUUID(),
      occurredAt: event.occurredAt ?? new Date().toISOString(),
    };
    // A publish made while reconnecting is dropped by the client; wait (as long as a publish may).
    await this.link.waitUntilConnected(PUBLISH_TIMEOUT_MS);
    await this.js.publish(Subjects.event(envelope.kind), json.encode(envelope as EventEnvelope), {
      msgID: envelope.id,
      timeout: PUBLISH_TIMEOUT_MS,
    });
    return envelope;
  }
}
