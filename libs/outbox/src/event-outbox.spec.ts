import { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { connect, NatsConnection, JSONCodec } from 'nats';
import { EventEnvelope, EventKinds, Subjects } from '@app/contracts';
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
    nc.subscribe(Subjects.eventsWildcard, { callback: (_e, msg) => seen.push(json.decode(msg.data)) });
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
    await waitFor('both events after the restart', () => seen.length === 2, 15_000);
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
});
