import { JSONCodec, connect, NatsConnection } from 'nats';
import { EventEnvelope, Heartbeat, Subjects } from '@app/contracts';
import { loadConfig } from '@app/config';
import { EventPublisher, ensureEventsStream } from '@app/messaging';
import { EventOutbox } from '@app/outbox';
import { Database, migrateToLatest, openDatabase } from '@app/persistence';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
import { ManualClock } from '@app/clock';
import { IngestionConfig } from '../src/config';
import { IngestionDB } from '../src/database';
import { AgentsRepository } from '../src/liveness/agents.repository';
import { LivenessTracker } from '../src/liveness/liveness-tracker';
import { migrations } from '../src/migrations';
import { IngestionMetrics } from '../src/observability/ingestion-metrics';
import { heartbeatBody } from './ingestion-fixtures';

const agent = { agentId: 'agent-h', organizationId: 'org-1', environment: 'prod-1' };
const json = JSONCodec<EventEnvelope>();
const failingCollection = (at: number) => ({
  ok: false,
  at,
  durationMs: 3,
  samples: 0,
  errors: [{ collector: 'containers', error: 'connect ENOENT /var/run/docker.sock' }],
});

/**
 * Health and version on top of liveness: several trackers (ingestion instances) sharing one database
 * each hear some heartbeats; every status and version change is announced exactly once.
 */
describe.each(testEngines())('agent health and version on %s', (engine) => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let database: TestDatabase;
  let opened: Database<IngestionDB>[];
  let events: EventEnvelope[];

  const config = loadConfig(IngestionConfig, {
    LIVENESS_MISSED_HEARTBEATS: '3',
    HEALTH_BUFFER_FILL_FRACTION: '0.5',
    HEALTH_CLOCK_SKEW_SECONDS: '30',
  });
  const newTracker = async (clock: ManualClock) => {
    const db = await openDatabase<IngestionDB>(database.options);
    opened.push(db);
    await migrateToLatest(db.db, migrations);
    return new LivenessTracker(
      new AgentsRepository(db),
      new EventOutbox(db.db, new EventPublisher(nc), nc),
      clock,
      config,
      new IngestionMetrics(),
      nc,
    );
  };
  const hear = (tracker: LivenessTracker, clock: ManualClock, overrides: Partial<Heartbeat> = {}) =>
    tracker.recordHeartbeat(agent, {
      ...(heartbeatBody(agent.agentId, 10) as Heartbeat),
      sentAt: clock.now(),
      bufferFill: 0,
      lastCollection: { ok: true, at: clock.now(), durationMs: 3, samples: 12, errors: [] },
      ...overrides,
    });
  const row = () =>
    opened[0].db
      .selectFrom('agents')
      .selectAll()
      .where('agent_id', '=', agent.agentId)
      .executeTakeFirstOrThrow();
  const kinds = () => events.map((e) => e.kind);
  /**
   * Every tracker runs two rounds: what one changed, the others must not announce again. One after the
   * other, so that SQLite's single writer does not turn a round into a retry and the test into a race.
   */
  const roundsOf = async (...trackers: LivenessTracker[]) => {
    for (const t of trackers) {
      await t.tick();
      await t.tick();
    }
    await nc.flush();
  };
  const settle = () => new Promise((r) => setTimeout(r, 150));
  /** Status events in kind order (instances publish their outboxes independently, so arrival order varies). */
  const statusKinds = () => kinds().filter((k) => k !== 'agent.version_changed');
  /** `ms` pass in steps of a second while the trackers keep hearing (their probes), with a round each step. */
  const hearFor = async (clock: ManualClock, ms: number, ...trackers: LivenessTracker[]) => {
    for (let passed = 1000; passed <= ms; passed += 1000) {
      clock.advance(1000);
      for (const t of trackers) t.heard();
      if (passed % 5000 === 0) await roundsOf(...trackers);
    }
  };

  beforeEach(async () => {
    opened = [];
    events = [];
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    await ensureEventsStream(await nc.jetstreamManager());
    database = await createTestDatabase(engine, 'ingestion');
    nc.subscribe(Subjects.agentEventsWildcard, { callback: (_, msg) => events.push(json.decode(msg.data)) });
  });

  afterEach(async () => {
    for (const db of opened) await db.close();
    await nc.close();
    await server.dispose();
    await database.cleanup();
  });

  it('a failing collector makes the agent degraded with the reason, and fixing it recovers it, one event each', async () => {
    const clock = new ManualClock();
    const [a, b] = [await newTracker(clock), await newTracker(clock)];
    hear(a, clock);
    await roundsOf(a, b);
    clock.advance(10_000);
    hear(a, clock, { lastCollection: failingCollection(clock.now()) });
    hear(b, clock, { lastCollection: failingCollection(clock.now()) });
    await roundsOf(a, b);
    expect((await row()).status).toBe('degraded');
    clock.advance(10_000);
    hear(b, clock);
    await roundsOf(a, b);
    clock.advance(10_000);
    hear(a, clock);
    await roundsOf(a, b);
    await waitFor('recovered event', () => kinds().includes('agent.recovered'));
    await settle();

    expect(statusKinds().sort()).toEqual(['agent.degraded', 'agent.online', 'agent.recovered']);
    const degraded = events.find((e) => e.kind === 'agent.degraded')!;
    expect(degraded.data).toMatchObject({
      reasons: [
        {
          kind: 'collector_errors',
          component: 'collector:containers',
          message: 'containers: connect ENOENT /var/run/docker.sock',
        },
      ],
    });
    const stored = await row();
    expect(stored.status).toBe('online');
    expect(JSON.parse(stored.health!)).toMatchObject({ reasons: [] });
  });

  it("stores the heartbeat's source health as sent, and drops it once the agent reports none", async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    const sources = [
      { name: 'scrape:shop', up: true, lastDurationMs: 12.5, series: 212, lastRunAt: clock.now() },
      {
        name: 'plugin:queue',
        up: false,
        lastError: 'backend unreachable',
        lastDurationMs: 3,
        series: 0,
        lastRunAt: clock.now(),
      },
    ];
    hear(tracker, clock, { sources });
    await roundsOf(tracker);
    expect(JSON.parse((await row()).health!).sources).toEqual(sources);
    clock.advance(10_000);
    hear(tracker, clock);
    await roundsOf(tracker);
    expect(JSON.parse((await row()).health!).sources).toBeUndefined();
  });

  it('an agent that comes back unwell is announced online, then degraded', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, { bufferFill: 0.9, buffered: 900 });
    await roundsOf(tracker);
    await waitFor('two events', () => kinds().filter((k) => k !== 'agent.version_changed').length === 2);
    expect(statusKinds().sort()).toEqual(['agent.degraded', 'agent.online']);
    expect((await row()).status).toBe('degraded');
  });

  it('a stopping heartbeat makes the agent stopped at the next round; its silence is then not offline', async () => {
    const clock = new ManualClock();
    const [a, b] = [await newTracker(clock), await newTracker(clock)];
    hear(a, clock, { lastCollection: failingCollection(clock.now()) });
    await roundsOf(a, b);
    clock.advance(3_000);
    hear(b, clock, { state: 'stopping' });
    await roundsOf(a, b);
    expect((await row()).status).toBe('stopped');
    await hearFor(clock, 60_000, a, b);
    await settle();
    expect(statusKinds().sort()).toEqual(['agent.degraded', 'agent.online', 'agent.stopped']);
    expect((await row()).status).toBe('stopped');

    // Started again: online, announced once.
    hear(a, clock);
    await roundsOf(a, b);
    await waitFor('online again', () => kinds().filter((k) => k === 'agent.online').length === 2);
  });

  it('a degraded agent that falls silent goes offline like an online one', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, { sentAt: clock.now() - 120_000 });
    await roundsOf(tracker);
    expect((await row()).status).toBe('degraded');
    await hearFor(clock, 40_000, tracker);
    expect((await row()).status).toBe('offline');
    await waitFor('offline event', () => kinds().includes('agent.offline'));
    expect(events.find((e) => e.kind === 'agent.degraded')?.data).toMatchObject({
      reasons: [{ kind: 'clock_skew', component: 'clock' }],
    });
  });

  it('a new version in the heartbeats is recorded and announced once, with the one before', async () => {
    const clock = new ManualClock();
    const [a, b] = [await newTracker(clock), await newTracker(clock)];
    hear(a, clock, { agentVersion: '0.1.0' });
    await roundsOf(a, b);
    clock.advance(10_000);
    hear(a, clock, { agentVersion: '0.2.0' });
    hear(b, clock, { agentVersion: '0.2.0' });
    await roundsOf(a, b);
    clock.advance(10_000);
    hear(b, clock, { agentVersion: '0.2.0' });
    await roundsOf(a, b);
    await waitFor(
      'two version events',
      () => kinds().filter((k) => k === 'agent.version_changed').length === 2,
      5000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; events: ${JSON.stringify(events)}`);
    });
    await settle();
    expect(events.filter((e) => e.kind === 'agent.version_changed').map((e) => e.data)).toEqual([
      expect.objectContaining({ version: '0.1.0', previousVersion: null }),
      expect.objectContaining({ version: '0.2.0', previousVersion: '0.1.0' }),
    ]);
    expect((await row()).version).toBe('0.2.0');
  });

  it('an older heartbeat flushed late by another instance does not overwrite newer health', async () => {
    const clock = new ManualClock();
    const [a, b] = [await newTracker(clock), await newTracker(clock)];
    hear(a, clock, { lastCollection: failingCollection(clock.now()) });
    clock.advance(1_000);
    hear(b, clock);
    await b.tick();
    await a.tick();
    expect((await row()).status).toBe('online');
    expect(JSON.parse((await row()).health!)).toMatchObject({ reasons: [] });
  });
});
