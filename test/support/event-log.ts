import { connect, NatsConnection, StringCodec } from 'nats';
import { EventEnvelope, Streams, Subjects } from '@app/contracts';

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

export async function subscribeEvents(natsUrl: string): Promise<EventLog> {
  // Quick to reconnect: after a NATS restart the next test's events must not fall in its reconnect wait.
  const nc: NatsConnection = await connect({
    servers: natsUrl,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
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
    stored: async (kind, agentId) => {
      const consumer = await nc
        .jetstream()
        .consumers.get(Streams.events, { filterSubjects: Subjects.event(kind) });
      let count = 0;
      for (;;) {
        const batch = await consumer.fetch({ max_messages: 256, expires: 1000 });
        let received = 0;
        for await (const message of batch) {
          received += 1;
          const envelope = JSON.parse(codec.decode(message.data)) as EventEnvelope;
          if (envelope.agentId === agentId) count += 1;
        }
        if (received === 0) break;
      }
      return count;
    },
    close: async () => {
      await nc.drain();
    },
  };
}
