import { Kysely, sql } from 'kysely';
import { loadConfig } from '@app/config';
import { Database, migrateToLatest, Migrations, openDatabase } from '@app/persistence';
import { createTestDatabase, seededRandom, TestDatabase, testEngines } from '@app/testing';
import { ManualClock } from '@app/clock';
import { CompactionJob } from '../src/compaction/compaction-job';
import { IngestionConfig } from '../src/config';
import { IngestionDB, SampleRow } from '../src/database';
import { BucketGrid } from '../src/metrics/aggregates';
import { decodeChunk, encodeRollup, HOUR_MS } from '../src/metrics/chunk-codec';
import { MetricsRepository } from '../src/metrics/metrics.repository';
import { StoredMetricsRepository } from '../src/metrics/stored-metrics.repository';
import { CompactionRepository } from '../src/compaction/compaction.repository';
import { migrations } from '../src/migrations';
import { RetentionJob } from '../src/retention/retention-job';
import { FleetTopService } from '../src/query/fleet-top.service';
import { BucketRow, SeriesReader } from '../src/query/series-reader';
import { countRows, storeRows } from './ingestion-fixtures';

const DAY_MS = 86_400_000;
/** Midnight UTC; the data below spans this day's first hours. */
const DAY = Date.UTC(2026, 0, 10);
const AGENT = 'agent-a';

/** The answer straight from raw samples, as the row-per-sample table's SQL gave it. */
function expectedBuckets(
  samples: SampleRow[],
  name: string,
  from: number,
  to: number,
  step: number,
): BucketRow[] {
  const groups = new Map<string, SampleRow[]>();
  for (const s of samples) {
    if (s.name !== name || s.ts < from || s.ts >= to) continue;
    const key = `${s.tags}\u0000${Math.floor(s.ts / step) * step}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(s);
  }
  return [...groups.entries()]
    .map(([key, g]) => {
      const values = g.map((s) => s.value);
      const last = g.reduce((a, b) => (b.ts >= a.ts ? b : a));
      return {
        tags: key.split('\u0000')[0],
        unit: g[0].unit,
        bucket: Number(key.split('\u0000')[1]),
        avg: values.reduce((a, b) => a + b, 0) / values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        last: last.value,
        count: g.length,
      };
    })
    .sort((a, b) => (a.tags < b.tags ? -1 : a.tags > b.tags ? 1 : a.bucket - b.bucket));
}

/** One pass of the compaction job over `database`, as the service runs it on its timer. */
const compact = (database: Database<IngestionDB>, clock: ManualClock, config: IngestionConfig) =>
  new CompactionJob(
    new CompactionRepository(database),
    new StoredMetricsRepository(database),
    clock,
    config,
  ).run();

const rounded = (rows: BucketRow[]) => rows.map((r) => ({ ...r, avg: Math.round(r.avg * 1e6) / 1e6 }));

/**
 * An agent sending 4 series every 10 s for `hours` hours from `start`, with jittered timestamps, in
 * batches of one collection each (seq = collection number + `seqFrom`).
 */
function fleetBatches(start: number, hours: number, seqFrom = 0) {
  const rnd = seededRandom(start % 9973);
  const batches: { agentId: string; seq: number; samples: SampleRow[] }[] = [];
  for (let i = 0; i < (hours * HOUR_MS) / 10_000; i++) {
    const ts = start + i * 10_000 + Math.floor(rnd() * 1000);
    batches.push({
      agentId: AGENT,
      seq: seqFrom + i,
      samples: [
        ...['0', '1', '2'].map((core) => ({
          agent_id: AGENT,
          name: 'cpu.usage',
          tags: JSON.stringify({ core }),
          ts,
          value: Math.round(rnd() * 10_000) / 100,
          unit: 'percent',
        })),
        { agent_id: AGENT, name: 'memory.used', tags: '{}', ts, value: 1e9 + i, unit: 'By' },
      ],
    });
  }
  return batches;
}

describe.each(testEngines())('compact metric storage on %s', (engine) => {
  let fixture: TestDatabase;
  let database: Database<IngestionDB>;
  let repository: MetricsRepository;
  let stored: StoredMetricsRepository;
  let reader: SeriesReader;
  const clock = new ManualClock(DAY + 5 * HOUR_MS);
  const config = loadConfig(IngestionConfig, {
    METRICS_RETENTION_DAYS: '7',
    METRICS_ROLLUP_RETENTION_DAYS: '30',
  });

  beforeEach(async () => {
    fixture = await createTestDatabase(engine, 'ingestion');
    database = await openDatabase<IngestionDB>(fixture.options);
    await migrateToLatest(database.db, migrations);
    repository = new MetricsRepository(database);
    stored = new StoredMetricsRepository(database);
    reader = new SeriesReader(stored);
  });

  afterEach(async () => {
    await database.close();
    await fixture.cleanup();
  });

  const chunkCount = async () =>
    Number(
      (
        await database.db
          .selectFrom('metric_chunks')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Every way a chart can ask: rollup-aligned or not, every resolution, before and after compaction. */
  const queries: [string, number, number, number][] = [
    ['1-minute step, aligned', DAY, DAY + 4 * HOUR_MS, 60_000],
    ['2-minute step, from mid-minute', DAY + 90_500, DAY + 3 * HOUR_MS + 17_000, 120_000],
    ['1-hour step, a whole day', DAY, DAY + DAY_MS, HOUR_MS],
    ['1-hour step, from mid-hour', DAY + 1_800_000, DAY + 4 * HOUR_MS - 1, HOUR_MS],
    ['10-second step (raw)', DAY + HOUR_MS - 300_000, DAY + HOUR_MS + 300_000, 10_000],
    ['1-day step', DAY - DAY_MS, DAY + DAY_MS, DAY_MS],
  ];

  /** Stores `batches`, lets an hour pass, and compacts every hour that is over by then. */
  const storeAndCompact = async (batches: ReturnType<typeof fleetBatches>) => {
    await storeRows(repository, batches, clock.now());
    clock.advance(HOUR_MS);
    return compact(database, clock, config);
  };

  const expectAllQueriesMatch = async (samples: SampleRow[]) => {
    for (const [, from, to, step] of queries)
      for (const name of ['cpu.usage', 'memory.used'])
        expect(rounded(await reader.bucketed(AGENT, name, from, to, step))).toEqual(
          rounded(expectedBuckets(samples, name, from, to, step)),
        );
  };

  it('answers every resolution exactly as the raw samples would, before and after compaction and after a late batch', async () => {
    const batches = fleetBatches(DAY, 4);
    for (let i = 0; i < batches.length; i += 50)
      await storeRows(repository, batches.slice(i, i + 50), clock.now());
    const samples = batches.flatMap((b) => b.samples);
    await expectAllQueriesMatch(samples);

    // At 05:00 all four hours are over (the last one ended an hour ago).
    expect(await compact(database, clock, config)).toBe(4);
    expect(await chunkCount()).toBe(4);
    expect(await countRows(database, 'samples')).toBe(samples.length);
    await expectAllQueriesMatch(samples);

    // An agent that was cut off sends a batch for an hour already compacted.
    const late = fleetBatches(DAY + HOUR_MS + 123_000, 0.01, 100_000);
    for (const b of late) await storeRows(repository, [b], clock.now());
    const all = samples.concat(late.flatMap((b) => b.samples));
    await expectAllQueriesMatch(all);
    clock.advance(HOUR_MS);
    expect(await compact(database, clock, config)).toBe(1);
    await expectAllQueriesMatch(all);
    expect(await chunkCount()).toBe(4);
    expect(await countRows(database, 'samples')).toBe(all.length);
  });

  it('reads a day at 1-hour steps from a few rollup rows once compacted', async () => {
    await storeAndCompact(fleetBatches(DAY, 4));
    // One row per metric: a chart reads its own metric's row only.
    expect(await stored.rollupsOf(AGENT, HOUR_MS, DAY, DAY + DAY_MS, 'cpu.usage')).toHaveLength(1);
    expect(await stored.rollupsOf(AGENT, HOUR_MS, DAY, DAY + DAY_MS)).toHaveLength(2);
    expect(await stored.chunksOf(AGENT, DAY, DAY + DAY_MS, { onlyOutside: [DAY, DAY + DAY_MS] })).toEqual([]);
  });

  it('stores a redelivered batch once, also after its hour was compacted', async () => {
    const [first, second] = fleetBatches(DAY, 0.01);
    expect(await storeAndCompact([first])).toBe(1);
    const again = await storeRows(repository, [first, second], clock.now());
    expect([...again.duplicates]).toEqual([`${AGENT}:0`]);
    expect([...again.stored]).toEqual([`${AGENT}:1`]);
    expect(await countRows(database, 'samples')).toBe(8);
  });

  it('tells the newest sample and the series sent since a time, from rollups and from new chunks alike', async () => {
    const batches = fleetBatches(DAY, 3);
    expect(await storeAndCompact(batches)).toBe(3);
    const newest = batches[batches.length - 1].samples[0].ts;
    expect(await reader.newestSampleAt(AGENT, 'cpu.usage')).toBe(newest);
    const series = await reader.seriesSince(AGENT, DAY, 100);
    expect(series.map((s) => `${s.name} ${s.tags}`)).toEqual([
      'cpu.usage {"core":"0"}',
      'cpu.usage {"core":"1"}',
      'cpu.usage {"core":"2"}',
      'memory.used {}',
    ]);
    expect(series[3]).toMatchObject({ unit: 'By', last: newest });
    // A fresh batch, not compacted yet, moves both.
    const fresh = fleetBatches(clock.now() - 60_000, 0.003, 50_000);
    await storeRows(repository, fresh, clock.now());
    expect(await reader.newestSampleAt(AGENT, 'cpu.usage')).toBe(fresh[fresh.length - 1].samples[0].ts);
    expect(await reader.seriesSince(AGENT, clock.now() - 120_000, 100)).toHaveLength(4);
    expect(await reader.newestSampleAt(AGENT, 'no.such.metric')).toBeNull();
  });

  it('retention drops whole chunks past the raw retention and keeps rollups for their own longer one', async () => {
    await storeRows(repository, fleetBatches(DAY - 10 * DAY_MS, 2), clock.now());
    await storeAndCompact(fleetBatches(DAY, 2, 10_000));
    const deleted = await new RetentionJob(repository, clock, config).run();
    expect(deleted).toBe(2 * 360 * 4);
    expect(await countRows(database, 'samples')).toBe(2 * 360 * 4);
    expect(
      await stored.rollupsOf(AGENT, 60_000, DAY - 11 * DAY_MS, DAY - 9 * DAY_MS, 'memory.used'),
    ).toHaveLength(2);
    // The old day still charts at 1-hour steps from its rollup.
    const old = await reader.bucketed(AGENT, 'memory.used', DAY - 10 * DAY_MS, DAY - 9 * DAY_MS, HOUR_MS);
    expect(old.map((r) => r.count)).toEqual([360, 360]);

    clock.advance(25 * DAY_MS);
    await new RetentionJob(repository, clock, config).run();
    expect(await stored.rollupsOf(AGENT, 60_000, 0, DAY - DAY_MS)).toEqual([]);
    expect(await stored.rollupsOf(AGENT, HOUR_MS, 0, DAY - DAY_MS)).toEqual([]);
    expect(await stored.rollupsOf(AGENT, 60_000, DAY, DAY + DAY_MS, 'memory.used')).toHaveLength(2);
    expect(await countRows(database, 'samples')).toBe(0);
  });
});

describe.each(testEngines())('fleet top agents on %s', (engine) => {
  it("ranks an organisation's agents by a metric over a window as their raw samples would, other organisations left out", async () => {
    const fixture = await createTestDatabase(engine, 'ingestion');
    const database = await openDatabase<IngestionDB>(fixture.options);
    try {
      await migrateToLatest(database.db, migrations);
      const repository = new MetricsRepository(database);
      const agents = [
        ['agent-a', 'org-1'],
        ['agent-b', 'org-1'],
        ['agent-c', 'org-1'],
        ['agent-x', 'org-2'],
      ];
      await database.db
        .insertInto('agents')
        .values(
          agents.map(([agentId, org]) => ({
            agent_id: agentId,
            organization_id: org,
            environment: 'prod',
            interval_seconds: 10,
            last_seen_at: null,
            status: 'online',
            status_changed_at: null,
            first_seen_at: DAY,
          })),
        )
        .execute();
      const all: SampleRow[] = [];
      for (const [i, [agentId]] of agents.entries()) {
        const batches = fleetBatches(DAY, 3, 0).map((b) => ({
          ...b,
          agentId,
          samples: b.samples.map((s) => ({ ...s, agent_id: agentId, value: s.value * (i + 1) })),
        }));
        for (let j = 0; j < batches.length; j += 100)
          await storeRows(repository, batches.slice(j, j + 100), DAY);
        all.push(...batches.flatMap((b) => b.samples));
      }
      const clock = new ManualClock(DAY + 3 * HOUR_MS + 60_000);
      // Hours 0 and 1 compacted, hour 2 not yet: the window reads rollups, compacted edges and new chunks.
      expect(await compact(database, clock, loadConfig(IngestionConfig, {}))).toBe(2 * agents.length);
      const service = new FleetTopService(new StoredMetricsRepository(database));
      const from = DAY + 40 * 60_000 + 1234;
      const to = DAY + 2 * HOUR_MS + 20 * 60_000 + 567;
      const expected = (by: 'avg' | 'max') =>
        agents
          .filter(([, org]) => org === 'org-1')
          .map(([agentId]) => {
            const values = all
              .filter((s) => s.agent_id === agentId && s.name === 'cpu.usage' && s.ts >= from && s.ts < to)
              .map((s) => s.value);
            const avg = values.reduce((a, b) => a + b, 0) / values.length;
            return {
              agentId,
              value: Math.round((by === 'avg' ? avg : Math.max(...values)) * 1e6) / 1e6,
              count: values.length,
            };
          })
          .sort((a, b) => b.value - a.value);
      const window = { organizationId: 'org-1', name: 'cpu.usage', from, to };
      for (const by of ['avg', 'max'] as const) {
        const result = await service.top({ ...window, by, limit: 10 });
        expect(
          result.agents.map((a) => ({
            agentId: a.agentId,
            value: Math.round(a.value * 1e6) / 1e6,
            count: a.count,
          })),
        ).toEqual(expected(by));
      }
      const two = await service.top({ ...window, by: 'avg', limit: 2 });
      expect(two.agents.map((a) => a.agentId)).toEqual(['agent-c', 'agent-b']);
      const core = await service.top({ ...window, by: 'max', limit: 1, tag: 'core=1' });
      expect(core.agents[0].count).toBe(expected('max')[0].count / 3);
      await expect(
        service.top({ ...window, from: to, to: from, by: 'avg', limit: 10 }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    } finally {
      await database.close();
      await fixture.cleanup();
    }
  });
});

describe.each(testEngines())('migration 0005 on %s', (engine) => {
  it('converts the rows of the old samples table into chunks that answer the same queries', async () => {
    const fixture = await createTestDatabase(engine, 'ingestion');
    const database = await openDatabase<IngestionDB>(fixture.options);
    try {
      const before: Migrations = Object.fromEntries(
        Object.entries(migrations).filter(([name]) => name < '0005'),
      );
      await migrateToLatest(database.db, before);
      const samples = fleetBatches(DAY, 2).flatMap((b) => b.samples);
      samples.push({ ...samples[0], agent_id: 'agent-b', value: 42 });
      for (let i = 0; i < samples.length; i += 500) {
        const part = samples.slice(i, i + 500);
        await sql`insert into samples (agent_id, name, tags, ts, value, unit) values ${sql.join(
          part.map((s) => sql`(${s.agent_id}, ${s.name}, ${s.tags}, ${s.ts}, ${s.value}, ${s.unit})`),
        )}`.execute(database.db);
      }
      await migrateToLatest(database.db, migrations);

      const reader = new SeriesReader(new StoredMetricsRepository(database));
      expect(await countRows(database, 'samples')).toBe(samples.length);
      const agentA = samples.filter((s) => s.agent_id === AGENT);
      expect(rounded(await reader.bucketed(AGENT, 'cpu.usage', DAY, DAY + 2 * HOUR_MS, 60_000))).toEqual(
        rounded(expectedBuckets(agentA, 'cpu.usage', DAY, DAY + 2 * HOUR_MS, 60_000)),
      );
      expect(await reader.bucketed('agent-b', 'cpu.usage', DAY, DAY + HOUR_MS, HOUR_MS)).toMatchObject([
        { count: 1, last: 42 },
      ]);
      const tables = await database.db.introspection.getTables();
      expect(tables.map((t) => t.name)).not.toContain('samples');
    } finally {
      await database.close();
      await fixture.cleanup();
    }
  });
});

describe.each(testEngines())('migration 0007 on %s', (engine) => {
  it("splits each agent's rollup rows by metric, answering the same queries", async () => {
    const fixture = await createTestDatabase(engine, 'ingestion');
    const database = await openDatabase<IngestionDB>(fixture.options);
    try {
      const before: Migrations = Object.fromEntries(
        Object.entries(migrations).filter(([name]) => name < '0007'),
      );
      await migrateToLatest(database.db, before);
      const batches = fleetBatches(DAY, 2);
      await storeRows(new MetricsRepository(database), batches, DAY + 3 * HOUR_MS);
      // Compacted as 0005 stored it: one rollup row per agent and window, every metric in it.
      const old = database.db as unknown as Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const days = new BucketGrid(HOUR_MS);
      for (const hour of [DAY, DAY + HOUR_MS]) {
        const minutes = new BucketGrid(60_000);
        for (const c of await new StoredMetricsRepository(database).chunksOf(
          AGENT,
          hour,
          hour + HOUR_MS,
          'all',
        ))
          decodeChunk(c.data, c.hourStart, (id, ts, value) => minutes.add(id, ts, value));
        for (const b of minutes.toBuckets()) days.merge(b.seriesId, b.ts, b);
        await old
          .insertInto('metric_rollups')
          .values({
            agent_id: AGENT,
            step_ms: 60_000,
            window_start: hour,
            data: encodeRollup(minutes.toBuckets(), hour, 60_000),
          })
          .execute();
      }
      await old
        .insertInto('metric_rollups')
        .values({
          agent_id: AGENT,
          step_ms: HOUR_MS,
          window_start: DAY,
          data: encodeRollup(days.toBuckets(), DAY, HOUR_MS),
        })
        .execute();
      await old.updateTable('metric_chunks').set({ compacted: 1 }).execute();

      await migrateToLatest(database.db, migrations);

      const stored = new StoredMetricsRepository(database);
      expect(await stored.rollupsOf(AGENT, 60_000, DAY, DAY + DAY_MS, 'memory.used')).toHaveLength(2);
      expect(await stored.rollupsOf(AGENT, HOUR_MS, DAY, DAY + DAY_MS)).toHaveLength(2);
      const reader = new SeriesReader(stored);
      const samples = batches.flatMap((b) => b.samples);
      for (const name of ['cpu.usage', 'memory.used'])
        for (const step of [60_000, HOUR_MS])
          expect(rounded(await reader.bucketed(AGENT, name, DAY, DAY + 2 * HOUR_MS, step))).toEqual(
            rounded(expectedBuckets(samples, name, DAY, DAY + 2 * HOUR_MS, step)),
          );
      expect(await reader.newestSampleAt(AGENT, 'memory.used')).toBe(samples[samples.length - 1].ts);
    } finally {
      await database.close();
      await fixture.cleanup();
    }
  });
});
