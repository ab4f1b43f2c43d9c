import { JSONCodec, NatsConnection } from 'nats';
import { EventEnvelope, Streams, Subjects } from '@app/contracts';

const json = JSONCodec<EventEnvelope>();

/** How long reading may go without a message before what the stream holds counts as unreadable. */
const STALL_MS = 30_000;

/**
 * Every `kind` event the EVENTS stream holds, oldest first, read with an ordered consumer: what
 * the stream stored (once per id), as opposed to what a live subscriber happened to see. It reads
 * at least as many as the stream counted for the subject when asked: an empty fetch alone does not
 * end the read, since on a cluster that is still electing leaders a fetch can expire before the
 * rest arrives (a short read once counted an agent.online as missing).
 */
export async function storedEvents(nc: NatsConnection, kind: string): Promise<EventEnvelope[]> {
  const subject = Subjects.event(kind);
  const info = await (await nc.jetstreamManager()).streams.info(Streams.events, { subjects_filter: subject });
  const expected = info.state.subjects?.[subject] ?? 0;
  const consumer = await nc.jetstream().consumers.get(Streams.events, { filterSubjects: subject });
  const events: EventEnvelope[] = [];
  let lastReceivedAt = Date.now();
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 256, expires: 1000 });
    let received = 0;
    for await (const msg of batch) {
      received++;
      events.push(json.decode(msg.data));
    }
    if (received) lastReceivedAt = Date.now();
    else if (events.length >= expected) return events;
    else if (Date.now() - lastReceivedAt > STALL_MS)
      throw new Error(`EVENTS holds ${expected} ${subject} but only ${events.length} could be read`);
  }
}
