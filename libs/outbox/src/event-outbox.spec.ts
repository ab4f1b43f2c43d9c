import { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { connect, NatsConnection, JSONCodec, Subscription } from 'nats';
import { EventEnvelope, EventKinds, Headers, Streams, Subjects } from '@app/contracts';
import { ensureEventsStream, EventPublisher } from '@app/messaging';
import { Database, openDatabase } from '@app/persistence';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
import { createEventOutboxTable, EventOutbox, EventOutboxTables, OutboxEvent } from './event-outbox';

interface TestDB extends EventOutboxTables {
  things: { id: string };
}

const json = JSONCodec<EventEnvelope>();
const event = (id: string): OutboxEvent => ({
  id,
  kind: EventKinds.agentOffline,
  organizationId: 'org-1',
  environment: 'prod-1',
  agentId: id,
  data: { lastSeenAt: 1, silentForMs: 2 },
});

describe.each(testEngines())('the event outbox on %s', (engine) => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let database: TestDatabase;
  let handles: Database<TestDB>[];
  let seen: EventEnvelope[];
  let seenSubscription: Subscription;

  const open = async () => {
    const handle = await openDatabase<TestDB>(database.options);
    handles.push(handle);
    return handle;
  };
  const outboxOn = (handle: Database<TestDB>) => new EventOutbox(handle.db, new EventPublisher(nc), nc);
  /** A service's write: a row and its event in one transaction, or neither. */
  const write = (outbox: EventOutbox, db: Kysely<TestDB>, id: string, fail = false) =>
    db.transaction().execute(async (trx) => {
      await trx.insertInto('things').values({ id }).execute();
      await outbox.add(trx, [event(id)]);
      if (fail) throw new Error('rolled back');
    });

  beforeEach(async () => {
    handles = [];
    seen = [];
    server = await startNatsServer();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await ensureEventsStream(await nc.jetstreamManager());
    seenSubscription = nc.subscribe(Subjects.eventsWildcard, {
      callback: (_e, msg) => seen.push(json.decode(msg.data)),
    });
    database = await createTestDatabase(engine, 'outbox');
    const first = await open();
    await createEventOutboxTable(first.db as Kysely<unknown>);
    await first.db.schema
      .createTable('things')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .execute();
  });
  afterEach(async () => {
    for (const handle of handles) await handle.close();
    await nc.close();
    await server.dispose();
    await database.cleanup();
  });

  it('publishes a committed event once and nothing for a rolled-back change', async () => {
    const [handle] = handles;
    const outbox = outboxOn(handle);
    await write(outbox, handle.db, 'a');
    await expect(write(outbox, handle.db, 'b', true)).rejects.toThrow('rolled back');
    expect(await outbox.relay()).toBe(1);
    await nc.flush();
    expect(seen.map((e) => e.id)).toEqual(['a']);
    expect(seen[0]).toMatchObject({
      kind: 'agent.offline',
      organizationId: 'org-1',
      occurredAt: expect.any(String),
    });
    expect(await outbox.pending()).toBe(0);
  });

  it('exposes how many events wait as the events_outbox_pending gauge', async () => {
    const [handle] = handles;
    const outbox = outboxOn(handle);
    const registry = new Registry();
    outbox.registerMetrics(registry);
    await write(outbox, handle.db, 'waiting');
    expect(await registry.metrics()).toMatch(/^events_outbox_pending 1$/m);
    await outbox.relay();
    expect(await registry.metrics()).toMatch(/^events_outbox_pending 0$/m);
  });

  it('an event left behind by an instance that died after the commit is published by another', async () => {
    const [handle] = handles;
    await write(outboxOn(handle), handle.db, 'left-behind'); // no relay: the process "died" here
    const other = outboxOn(await open());
    other.start();
    try {
      await waitFor('the event from the other instance', () => seen.length === 1, 10_000);
    } finally {
      await other.stop();
    }
    expect(seen[0].id).toBe('left-behind');
    expect(await other.pending()).toBe(0);
  });

  it('keeps events through a NATS outage and publishes them, in order, when it is back', async () => {
    const [handle] = handles;
    const outbox = outboxOn(handle);
    await server.stop();
    await write(outbox, handle.db, 'during-1');
    await write(outbox, handle.db, 'during-2');
    expect(await outbox.relay()).toBe(0);
    expect(await outbox.pending()).toBe(2);
    await server.restart();
    // The reconnect starts a round at once; polling (as in a service) retries if JetStream was not ready yet.
    outbox.start();
    try {
      await waitFor('both events after the restart', () => seen.length === 2, 15_000);
    } finally {
      await outbox.stop();
    }
    expect(seen.map((e) => e.id)).toEqual(['during-1', 'during-2']);
    expect(await outbox.pending()).toBe(0);
  });

  it('a claimed event goes out with its writer right after the commit, or after the lease if the writer died', async () => {
    const [handle] = handles;
    const writer = new EventOutbox(handle.db, new EventPublisher(nc), nc, { claimLeaseMs: 1500 });
    const claimedWrite = (id: string) =>
      handle.db.transaction().execute(async (trx) => {
        await trx.insertInto('things').values({ id }).execute();
        return writer.add(trx, [event(id)], { claim: true });
      });
    await writer.publishSoon(await claimedWrite('published-by-writer'));
    await nc.flush();
    expect(seen.map((e) => e.id)).toEqual(['published-by-writer']);
    expect(await writer.pending()).toBe(0);

    await claimedWrite('writer-died'); // committed, never published by its writer
    const other = outboxOn(await open());
    expect(await other.relay()).toBe(0); // still leased to the writer
    await new Promise((r) => setTimeout(r, 1600));
    expect(await other.relay()).toBe(1);
    await nc.flush();
    expect(seen.map((e) => e.id)).toEqual(['published-by-writer', 'writer-died']);
  });

  it('two instances relaying at once publish each event once', async () => {
    const [handle] = handles;
    const writer = outboxOn(handle);
    for (let i = 0; i < 50; i++) await write(writer, handle.db, `e${String(i).padStart(2, '0')}`);
    const other = outboxOn(await open());
    const [a, b] = await Promise.all([writer.relay(), other.relay()]);
    expect(a + b).toBe(50);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(50);
    expect(new Set(seen.map((e) => e.id)).size).toBe(50);
  });

  describe('a row that can never be published', () => {
    let now: number;
    const parkingOutbox = (handle: Database<TestDB>, maxAttempts = 2) =>
      new EventOutbox(handle.db, new EventPublisher(nc), nc, {
        service: 'test',
        maxAttempts,
        now: () => now,
      });
    /** Bigger than the server's max_payload (1 MiB): NATS refuses it whatever happens. */
    const oversized = (id: string): OutboxEvent => ({ ...event(id), data: { blob: 'x'.repeat(1_100_000) } });
    const parked = async () => {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(Streams.deadLetter).catch(() => undefined);
      if (!info) return [];
      const letters = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(Streams.deadLetter, { seq });
        letters.push({
          subject: m.subject,
          reason: m.header.get(Headers.deadLetterReason),
          detail: m.header.get(Headers.deadLetterDetail),
          msgId: m.header.get(Headers.msgId),
          data: m.data,
        });
      }
      return letters;
    };

    beforeEach(() => (now = Date.now()));

    it('is parked once it is out of attempts and the row behind it goes out; the rest keep their order', async () => {
      const [handle] = handles;
      const outbox = parkingOutbox(handle);
      const registry = new Registry();
      outbox.registerMetrics(registry);
      await handle.db.transaction().execute((trx) => outbox.add(trx, [oversized('poison')]));
      now += 1;
      await write(outbox, handle.db, 'behind-1');
      now += 1;
      await write(outbox, handle.db, 'behind-2');

      // First failure: everything waits behind it (it might be an outage).
      expect(await outbox.relay()).toBe(0);
      expect(await outbox.pending()).toBe(3);
      now += 60_000;
      // Out of attempts, and the next row publishes: poison, parked.
      expect(await outbox.relay()).toBe(2);
      await nc.flush();
      expect(seen.map((e) => e.id)).toEqual(['behind-1', 'behind-2']);
      expect(await outbox.pending()).toBe(0);
      const letters = await parked();
      expect(letters).toHaveLength(1);
      expect(letters[0].subject).toBe(Subjects.deadLetter('outbox.test'));
      expect(letters[0].reason).toMatch(/^not publishable after 2 attempts: .*MAX_PAYLOAD_EXCEEDED/);
      // Too big to park whole: its head, saying so, under its event id.
      expect(letters[0].msgId).toBe('outbox:poison');
      expect(letters[0].detail).toMatch(/^body truncated to \d+ of 1100\d{3} bytes$/);
      expect(new TextDecoder().decode(letters[0].data)).toMatch(/^\{"id":"poison","kind":"agent.offline"/);
      expect(await registry.metrics()).toMatch(/^events_outbox_parked_total 1$/m);
    });

    it('is not parked while nothing can be published (an outage, not poison)', async () => {
      const [handle] = handles;
      const outbox = parkingOutbox(handle, 1);
      await write(outbox, handle.db, 'first');
      await write(outbox, handle.db, 'second');
      const jsm = await nc.jetstreamManager();
      // Every publish fails at once: no stream stores events.>, and no test subscriber answers either.
      seenSubscription.unsubscribe();
      await jsm.streams.delete(Streams.events);
      for (let round = 0; round < 3; round++) {
        now += 60_000;
        expect(await outbox.relay()).toBe(0);
      }
      expect(await outbox.pending()).toBe(2);
      expect(await parked()).toEqual([]);
      await ensureEventsStream(jsm);
      now += 60_000;
      expect(await outbox.relay()).toBe(2);
      const stored = [1, 2].map(
        async (seq) => json.decode((await jsm.streams.getMessage(Streams.events, { seq })).data).id,
      );
      expect(await Promise.all(stored)).toEqual(['first', 'second']);
    });

    it('is parked at once when its stored text is not a JSON event', async () => {
      const [handle] = handles;
      const outbox = parkingOutbox(handle);
      await handle.db
        .insertInto('event_outbox')
        .values({
          id: 'garbled',
          payload: '{"kind": trunc',
          created_at: now,
          attempts: 0,
          next_attempt_at: now,
        })
        .execute();
      now += 1;
      await write(outbox, handle.db, 'fine');
      expect(await outbox.relay()).toBe(1);
      await nc.flush();
      expect(seen.map((e) => e.id)).toEqual(['fine']);
      const letters = await parked();
      expect(letters.map((l) => l.reason)).toEqual(['outbox row is not a JSON event']);
      expect(new TextDecoder().decode(letters[0].data)).toBe('{"kind": trunc');
      expect(await outbox.pending()).toBe(0);
    });
  });
});
