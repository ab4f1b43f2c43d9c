import { NatsConnection, StringCodec } from 'nats';
import { EventEnvelope, Subjects } from '@app/contracts';
import { NatsServerHandle, storedEvents } from '@app/testing';

/**
 * An independent subscriber on `events.>`, the way an internal service would listen: every
 * event published while it runs, in arrival order.
 */
export interface EventLog {
  all(): EventEnvelope[];
  of(kind: string, agentId?: string): EventEnvelope[];
  /** How many `kind` events for `agentId` the EVENTS stream holds (JetStream, not the live feed). */
  stored(kind: string, agentId: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Listens as an internal consumer would: its own user with exactly `events.>` to read and what reading
 * the EVENTS stream takes (`npm run admin -- nats-user create` makes such a user).
 */
export async function subscribeEvents(nats: NatsServerHandle): Promise<EventLog> {
  const nc: NatsConnection = await nats.bus!.connectWith(
    'event-log',
    [
      '$JS.API.INFO',
      '$JS.API.STREAM.INFO.EVENTS',
      '$JS.API.CONSUMER.CREATE.EVENTS',
      '$JS.API.CONSUMER.CREATE.EVENTS.>',
      '$JS.API.CONSUMER.INFO.EVENTS.*',
      '$JS.API.CONSUMER.MSG.NEXT.EVENTS.*',
    ],
    [Subjects.eventsWildcard],
  );
  const codec = StringCodec();
  const seen: EventEnvelope[] = [];
  const sub = nc.subscribe(Subjects.eventsWildcard);
  void (async () => {
    for await (const message of sub) {
      try {
        seen.push(JSON.parse(codec.decode(message.data)) as EventEnvelope);
      } catch {
        // Not an envelope: the assertions on event counts will show what is missing.
      }
    }
  })();
  await nc.flush();

  const of = (kind: string, agentId?: string) =>
    seen.filter((e) => e.kind === kind && (agentId === undefined || e.agentId === agentId));

  return {
    all: () => [...seen],
    of,
    stored: async (kind, agentId) =>
      (await storedEvents(nc, kind)).filter((envelope) => envelope.agentId === agentId).length,
    close: async () => {
      await nc.drain();
    },
  };
}
