import { INestMicroservice } from '@nestjs/common';
import { sql } from 'kysely';
import { connect, NatsConnection } from 'nats';
import { EventKinds, Heartbeat, IngestionStats, Subjects } from '@app/contracts';
import { loadConfig } from '@app/config';
import { ConnectionState, EventPublisher, RpcClient, ensureEventsStream } from '@app/messaging';
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
import {
  heartbeatBody,
  ingestionConfig,
  publishHeartbeat,
  recordLivenessEvents,
  startTestIngestion,
  TestTokenService,
} from './ingestion-fixtures';

const agent = { agentId: 'agent-a', organizationId: 'org-1', environment: 'prod-1', intervalSeconds: 10 };
type TestAgent = typeof agent;

/** A heartbeat as a healthy agent sends it, its clock in step with the platform's; `overrides` change it. */
function heartbeatFrom(a: TestAgent, sentAt: number, overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    ...(heartbeatBody(a.agentId, a.intervalSeconds) as Heartbeat),
    sentAt,
    bufferFill: 0,
    lastCollection: { ok: true, at: sentAt, durationMs: 5, samples: 10, errors: [] },
    ...overrides,
  };
}

/** The tracker hears one heartbeat of `a` (as the subscriber hands it over after its checks). */
function hear(
  tracker: LivenessTracker,
  clock: ManualClock,
  a: TestAgent,
  overrides: Partial<Heartbeat> = {},
) {
  tracker.recordHeartbeat(a, heartbeatFrom(a, clock.now(), overrides));
}

/**
 * `ms` pass while the trackers keep hearing: the probe every instance publishes reaches its
 * heartbeat subscription (twice a second in a running instance; every second here).
 */
const kindsOf = (recorder: ReturnType<typeof recordLivenessEvents>) =>
  recorder.events.map((e) => `${e.kind} ${e.agentId}`);

function hearFor(clock: ManualClock, ms: number, ...trackers: LivenessTracker[]): void {
  for (let passed = 0; passed < ms; passed += 1000) {
    clock.advance(Math.min(1000, ms - passed));
    for (const tracker of trackers) tracker.heard();
  }
}

describe.each(testEngines())('liveness on %s', (engine) => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let database: TestDatabase;
  let opened: Database<IngestionDB>[];
  let recorder: ReturnType<typeof recordLivenessEvents>;

  const config = loadConfig(IngestionConfig, { LIVENESS_MISSED_HEARTBEATS: '3' });
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
  const kinds = () => kindsOf(recorder);
  /** Hearing resumes now; the agent stays silent: online for 29 s more (the 30 s threshold), then offline. */
  const expectOfflineAThresholdAfterHearingResumes = async (clock: ManualClock, tracker: LivenessTracker) => {
    tracker.heard();
    hearFor(clock, 29_000, tracker);
    await tracker.tick();
    expect(await statusOf(agent.agentId)).toBe('online');
    hearFor(clock, 2_000, tracker);
    await tracker.tick();
    expect(await statusOf(agent.agentId)).toBe('offline');
    await waitFor('offline event', () => recorder.events.length === 2);
    expect(kinds()).toEqual(['agent.online agent-a', 'agent.offline agent-a']);
  };
  const statusOf = async (agentId: string) =>
    (
      await opened[0].db
        .selectFrom('agents')
        .select('status')
        .where('agent_id', '=', agentId)
        .executeTakeFirst()
    )?.status;

  beforeEach(async () => {
    opened = [];
    server = await startNatsServer();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await ensureEventsStream(await nc.jetstreamManager());
    database = await createTestDatabase(engine, 'ingestion');
    recorder = recordLivenessEvents(nc);
  });

  afterEach(async () => {
    recorder.stop();
    for (const db of opened) await db.close();
    await nc.close();
    await server.dispose();
    await database.cleanup();
  });

  it('marks an agent online on its first heartbeat and offline after three silent intervals, once each', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, agent);
    await tracker.tick();
    hearFor(clock, 29_000, tracker);
    await tracker.tick();
    await nc.flush();
    expect(kinds()).toEqual(['agent.online agent-a']);

    hearFor(clock, 2_000, tracker);
    await tracker.tick();
    await tracker.tick();
    await waitFor('offline event', () => recorder.events.length === 2);
    expect(kinds()).toEqual(['agent.online agent-a', 'agent.offline agent-a']);
    expect(recorder.events[1].data).toEqual({ lastSeenAt: clock.now() - 31_000, silentForMs: 31_000 });
  });

  it('while its NATS link is down, and for a threshold after it is back, silence is not called offline', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, agent);
    await tracker.tick();
    await waitFor('online event', () => recorder.events.length === 1);

    await server.stop();
    await waitFor('the disconnect to be seen', () => !ConnectionState.of(nc).isConnected);
    clock.advance(120_000);
    await tracker.tick();
    await server.restart();
    await waitFor('the reconnect to be seen', () => ConnectionState.of(nc).isConnected, 10_000);
    // The agent's last heartbeat is 2 min old, but nobody could have heard one meanwhile.
    await expectOfflineAThresholdAfterHearingResumes(clock, tracker);
  });

  it('while nothing reaches its heartbeat subscription, not even its probe, silence is not judged; it counts from when hearing resumes', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, agent);
    await tracker.tick();
    // A minute of total silence: the subscription is blocked, or the whole fleet stopped; no telling which.
    clock.advance(60_000);
    await tracker.tick();
    expect(await statusOf(agent.agentId)).toBe('online');

    // Probes arrive again; the agent does not: offline a full threshold after hearing resumed.
    await expectOfflineAThresholdAfterHearingResumes(clock, tracker);
  });

  it('while heartbeats arrive that cannot be verified, their silence is not judged', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, agent);
    await tracker.tick();
    // The token service stops answering: the agent keeps sending, unverifiable, for a minute.
    for (let s = 0; s < 60; s++) {
      hearFor(clock, 1000, tracker);
      tracker.couldNotVerify();
      await tracker.tick();
    }
    expect(await statusOf(agent.agentId)).toBe('online');
    hear(tracker, clock, agent);
    await tracker.tick();
    await nc.flush();
    expect(kinds()).toEqual(['agent.online agent-a']);
  });

  it('announces a transition committed while NATS was down once it is back, exactly once', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    await server.stop();
    await waitFor('the disconnect to be seen', () => !ConnectionState.of(nc).isConnected);
    hear(tracker, clock, agent);
    await tracker.tick();
    expect(await statusOf(agent.agentId)).toBe('online');
    expect(recorder.events).toHaveLength(0);

    await server.restart();
    await waitFor('the online event, from the outbox', () => recorder.events.length === 1, 15_000);
    await tracker.tick();
    await new Promise((r) => setTimeout(r, 200));
    expect(kinds()).toEqual(['agent.online agent-a']);
  });

  it('announces an agent that comes back as online again', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, agent);
    await tracker.tick();
    hearFor(clock, 60_000, tracker);
    await tracker.tick();
    hear(tracker, clock, agent);
    await tracker.tick();
    await waitFor('three events', () => recorder.events.length === 3);
    expect(kinds()).toEqual(['agent.online agent-a', 'agent.offline agent-a', 'agent.online agent-a']);
  });

  it('uses the interval each agent announces for its threshold', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    hear(tracker, clock, { ...agent, agentId: 'fast', intervalSeconds: 1 });
    hear(tracker, clock, { ...agent, agentId: 'slow', intervalSeconds: 60 });
    await tracker.tick();
    hearFor(clock, 5_000, tracker);
    await tracker.tick();
    await waitFor('offline event', () => recorder.events.length === 3);
    await nc.flush();
    expect(kinds().filter((k) => k.startsWith('agent.offline'))).toEqual(['agent.offline fast']);
  });

  it('two trackers sharing the database announce each transition exactly once', async () => {
    const clock = new ManualClock();
    const [a, b] = [await newTracker(clock), await newTracker(clock)];
    // The queue group gave this agent's heartbeats to both instances.
    hear(a, clock, agent);
    hear(b, clock, agent);
    await Promise.all([a.tick(), b.tick()]);
    hearFor(clock, 31_000, a, b);
    await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(kinds()).toEqual(['agent.online agent-a', 'agent.offline agent-a']);
  });

  it('keeps what it saw for the next round when the database write fails', async () => {
    const clock = new ManualClock();
    const tracker = await newTracker(clock);
    const operator = opened[0];
    await sql`alter table agents rename to agents_away`.execute(operator.db);
    hear(tracker, clock, agent);
    // (Not toThrow(): a driver error may come from another realm than the test's Error class.)
    await expect(tracker.flush()).rejects.toHaveProperty('message');
    await sql`alter table agents_away rename to agents`.execute(operator.db);
    await tracker.tick();
    await waitFor('online event', () => recorder.events.length === 1);
    expect(kinds()).toEqual(['agent.online agent-a']);
  });

  it('does not revive an agent from a heartbeat that is already older than the threshold', async () => {
    const clock = new ManualClock();
    const [a, b] = [await newTracker(clock), await newTracker(clock)];
    hear(a, clock, agent);
    await a.tick();
    hear(b, clock, agent);
    hearFor(clock, 31_000, a, b);
    // a sweeps first; b's flush carries a heartbeat seen 31 s ago.
    await a.tick();
    await b.tick();
    await nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(kinds()).toEqual(['agent.online agent-a', 'agent.offline agent-a']);
  });
});

const postgresOnly = testEngines().includes('postgres') ? describe : describe.skip;

postgresOnly('liveness while PostgreSQL stalls', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let database: TestDatabase;
  let opened: Database<IngestionDB>[];
  let recorder: ReturnType<typeof recordLivenessEvents>;

  beforeEach(async () => {
    opened = [];
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    await ensureEventsStream(await nc.jetstreamManager());
    database = await createTestDatabase('postgres', 'ingestion');
    recorder = recordLivenessEvents(nc);
  });

  afterEach(async () => {
    recorder.stop();
    for (const db of opened) await db.close();
    await nc.close();
    await server.dispose();
    await database.cleanup();
  });

  const open = async () => {
    const db = await openDatabase<IngestionDB>(database.options);
    opened.push(db);
    await migrateToLatest(db.db, migrations);
    return db;
  };

  /** An operator's session holds an exclusive lock on `agents` until `release()`: every write to it waits. */
  const lockAgents = async (db: Database<IngestionDB>) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.db.transaction().execute(async (trx) => {
      await sql`lock table agents in access exclusive mode`.execute(trx);
      locked();
      await released;
    });
    await isLocked;
    return async () => {
      release();
      await holder;
    };
  };

  it('heartbeats heard while a flush waits 40 s on the database make nobody offline; silence counts from when writing resumed', async () => {
    const clock = new ManualClock();
    const db = await open();
    const tracker = new LivenessTracker(
      new AgentsRepository(db),
      new EventOutbox(db.db, new EventPublisher(nc), nc),
      clock,
      loadConfig(IngestionConfig, { LIVENESS_MISSED_HEARTBEATS: '3' }),
      new IngestionMetrics(),
      nc,
    );
    const operator = await open();
    hear(tracker, clock, agent);
    await tracker.tick();

    hearFor(clock, 1000, tracker);
    hear(tracker, clock, agent);
    const release = await lockAgents(operator);
    const stalled = tracker.tick();
    await waitFor('the flush to wait on the lock', async () => {
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_locks where not granted`.execute(operator.db);
      return rows[0].n > 0;
    });
    // The agent keeps heartbeating while the flush waits.
    for (let s = 0; s < 40; s++) {
      hearFor(clock, 1000, tracker);
      hear(tracker, clock, agent);
    }
    await release();
    await stalled;
    await tracker.tick();
    await nc.flush();
    expect(kindsOf(recorder)).toEqual(['agent.online agent-a']);

    // Then the agent stops: offline once, a full threshold after its last heartbeat.
    hearFor(clock, 29_000, tracker);
    await tracker.tick();
    expect(kindsOf(recorder)).toEqual(['agent.online agent-a']);
    hearFor(clock, 2_000, tracker);
    await tracker.tick();
    await waitFor('offline event', () => recorder.events.length === 2);
    expect(recorder.events[1].data).toMatchObject({ silentForMs: 31_000 });
  });
});

describe.each(testEngines())('liveness with running instances on %s', (engine) => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tokens: TestTokenService;
  let database: TestDatabase;
  let apps: INestMicroservice[];
  let recorder: ReturnType<typeof recordLivenessEvents>;

  beforeEach(async () => {
    apps = [];
    server = await startNatsServer();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    tokens = await new TestTokenService(nc).start();
    database = await createTestDatabase(engine, 'ingestion');
    recorder = recordLivenessEvents(nc);
  });

  afterEach(async () => {
    recorder.stop();
    for (const app of apps) await app.close().catch(() => undefined);
    tokens.stop();
    await nc.close();
    await server.dispose();
    await database.cleanup();
  });

  const start = async (env: Record<string, string> = {}) => {
    const app = await startTestIngestion(ingestionConfig(server.url, database, env));
    apps.push(app);
  };
  const stats = () => new RpcClient(nc).request<IngestionStats>(Subjects.ingestionStats, {});

  it('two instances agree: an agent that stops yields one agent.online and one agent.offline event', async () => {
    await start();
    await start();
    tokens.issue('prod-1', 'agent-a');
    // 1 s interval × 3 missed = offline 3 s after the last heartbeat.
    for (let i = 0; i < 16; i++) {
      publishHeartbeat(nc, 'prod-1', 'agent-a', 1);
      await new Promise((r) => setTimeout(r, 100));
    }
    const stoppedAt = Date.now();
    await waitFor(
      'offline event',
      () => recorder.events.some((e) => e.kind === EventKinds.agentOffline),
      10_000,
    );
    const offlineAfter = Date.now() - stoppedAt;
    // Anything a second instance would have published arrives within the next sweeps.
    await new Promise((r) => setTimeout(r, 1000));
    expect(recorder.events.map((e) => e.kind)).toEqual([EventKinds.agentOnline, EventKinds.agentOffline]);
    expect(offlineAfter).toBeGreaterThanOrEqual(2500);
    expect(offlineAfter).toBeLessThan(4500);
    expect(recorder.events[1]).toMatchObject({
      organizationId: 'org-1',
      environment: 'prod-1',
      agentId: 'agent-a',
    });
  });

  it('an agent heartbeating while the token service is silent is not called offline', async () => {
    await start({ AGENT_CACHE_TTL_SECONDS: '1' });
    tokens.issue('prod-1', 'agent-a');
    // 2 s interval × 3 missed = offline 6 s after the last heartbeat that counted.
    const heartbeatFor = async (ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end;) {
        publishHeartbeat(nc, 'prod-1', 'agent-a', 2);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await heartbeatFor(1000);
    await waitFor('online event', () => recorder.events.length === 1);
    tokens.stop();
    // The cached answer expires after a second; from then on every heartbeat is unverifiable.
    await heartbeatFor(10_000);
    expect((await stats()).rejectedByReason.unverifiable).toBeGreaterThan(0);
    await tokens.start();
    await heartbeatFor(2000);
    expect(recorder.events.map((e) => e.kind)).toEqual([EventKinds.agentOnline]);
  });

  it('a heartbeat for an agent that is unknown, elsewhere or malformed changes nothing and is counted by reason', async () => {
    await start();
    tokens.issue('staging', 'agent-b');
    publishHeartbeat(nc, 'prod-1', 'agent-never-enrolled', 1);
    publishHeartbeat(nc, 'prod-1', 'agent-b', 1);
    tokens.issue('prod-1', 'agent-a');
    nc.publish(Subjects.heartbeat('prod-1', 'agent-a'), new TextEncoder().encode('{}'));
    const result = await waitFor('three rejections', async () => {
      const s = await stats();
      return Object.values(s.rejectedByReason).reduce((a, b) => a + b, 0) === 3 && s;
    });
    expect(result.rejectedByReason).toEqual({ unknown: 1, mismatch: 1, invalid_payload: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect((await stats()).agentsTracked).toBe(0);
    expect(recorder.events).toEqual([]);
  });

  it("rejects a revoked agent's heartbeats within a second", async () => {
    await start();
    const agentId = tokens.issue('prod-1', 'agent-a');
    publishHeartbeat(nc, 'prod-1', 'agent-a', 1);
    await waitFor('accepted', async () => (await stats()).heartbeatsAccepted === 1);
    await tokens.revoke(agentId);
    const revokedAt = Date.now();
    await waitFor(
      'revoked heartbeat rejected',
      async () => {
        publishHeartbeat(nc, 'prod-1', 'agent-a', 1);
        return (await stats()).rejectedByReason.revoked > 0;
      },
      1000,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });
});
