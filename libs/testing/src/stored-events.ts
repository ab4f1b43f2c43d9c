import { JSONCodec, NatsConnection } from 'nats';
import { EventEnvelope, Streams, Subjects } from '@app/contracts';

const json = JSONCodec<EventEnvelope>();

/**
 * Every `kind` event the EVENTS stream holds, oldest first, read with an ordered consumer: what
 * the stream stored (once per id), as opposed to what a live subscriber happened to see.
 */
export async function storedEvents(nc: NatsConnection, kind: string): Promise<EventEnvelope[]> {
  const consumer = await nc
    .jetstream()
    .consumers.get(Streams.events, { filterSubjects: Subjects.event(kind) });
  const events: EventEnvelope[] = [];
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 256, expires: 1000 });
    let received = 0;
    for await (const msg of batch) {
      received++;
      events.push(json.decode(msg.data));
    }
    if (!received) return events;
  }
}
