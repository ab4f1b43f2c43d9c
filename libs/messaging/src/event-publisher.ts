import { randomUUID } from 'node:crypto';
import { JetStreamClient, JSONCodec, NatsConnection } from 'nats';
import { EventEnvelope, EventKind, Subjects } from '@app/contracts';

const json = JSONCodec<EventEnvelope>();

export type NewEvent<T> = Omit<EventEnvelope<T>, 'id' | 'occurredAt'> & { id?: string; occurredAt?: string };

/**
 * Publishes facts to the EVENTS stream. The event id is the `Nats-Msg-Id`, so a retried
 * publish is stored once; the promise resolves when JetStream has persisted it.
 */
export class EventPublisher {
  private readonly js: JetStreamClient;

  constructor(nc: NatsConnection) {
    this.js = nc.jetstream();
  }

  async publish<T>(event: NewEvent<T> & { kind: EventKind }): Promise<EventEnvelope<T>> {
    const envelope: EventEnvelope<T> = {
      ...event,
      id: event.id ?? randomUUID(),
      occurredAt: event.occurredAt ?? new Date().toISOString(),
    };
    await this.js.publish(Subjects.event(envelope.kind), json.encode(envelope as EventEnvelope), {
      msgID: envelope.id,
    });
    return envelope;
  }
}
