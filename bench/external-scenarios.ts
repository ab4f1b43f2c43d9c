import { join } from 'node:path';
import { externalScenario, lastJsonObject, numberAt, writtenJson } from './lib/external-scenario';

/**
 * Scenarios written as standalone scripts by the teams that own the code they measure,
 * wrapped so `npm run bench` runs them and reports their figures like the others.
 */
export const agentFootprint = externalScenario({
  name: 'agent-footprint',
  title: 'Agent footprint: a real Server agent process, 1 s heartbeat and collection, for 5 minutes',
  file: join(__dirname, 'agent-footprint.ts'),
  timeoutMs: 8 * 60_000,
  parse(stdout, ctx) {
    const summary = lastJsonObject(stdout) as {
      finalRssMb: number;
      maxRssMb: number;
      secondHalfGrowthPercent: number;
      heartbeats: number;
      metricsBatchesStored: number;
      series: { seconds: number }[];
      cpuPercent: number;
      cpuMsPerCollection: number;
      collections: number;
      bytesPerInterval: number;
      bytesPerHeartbeat: number;
      bytesPerBatch: number;
      steadySeconds: number;
      intervalSeconds: number;
    };
    const seconds = summary.series[summary.series.length - 1]?.seconds ?? 0;
    ctx.record('agent RSS at the end', 'MiB', summary.finalRssMb, { note: 'VmRSS sampled every 30 s' });
    ctx.record('agent RSS max', 'MiB', summary.maxRssMb);
    ctx.record('agent RSS growth over the second half', '%', summary.secondHalfGrowthPercent);
    const steady = `from t = 5 s to the end (${summary.steadySeconds} s)`;
    ctx.record('agent CPU', '% of one core', summary.cpuPercent, {
      note: `utime + stime from /proc/<pid>/stat, ${steady}`,
    });
    ctx.record('agent CPU per collection', 'ms', summary.cpuMsPerCollection, {
      note: `CPU over the same span ÷ ${summary.collections} metric batches (heartbeats' share included)`,
    });
    ctx.record('bytes sent per interval (heartbeat + metrics)', 'B', summary.bytesPerInterval, {
      note: `${summary.intervalSeconds} s interval; payload + NATS headers seen by a subscriber, no protocol framing`,
    });
    ctx.record('bytes per heartbeat', 'B', summary.bytesPerHeartbeat);
    ctx.record('bytes per metric batch', 'B', summary.bytesPerBatch);
    ctx.record('heartbeats received by the fake platform', 'count', summary.heartbeats);
    ctx.record('metric batches stored in JetStream', 'count', summary.metricsBatchesStored);
    ctx.note(`agent ran ${seconds} s`);
  },
});

export const ingestionHeartbeats = externalScenario({
  name: 'ingestion-heartbeats',
  title: 'Heartbeat path: ingestion vs raw nats.js pub→sub, same payload, same run',
  file: join(__dirname, 'ingestion-heartbeats.ts'),
  timeoutMs: 5 * 60_000,
  parse(stdout, ctx) {
    const r = writtenJson(stdout);
    ctx.record('raw nats.js pub→sub (parse only)', 'hb/s', numberAt(r, 'baseline.perSecond'));
    ctx.record('ingestion: verify + check + last-seen', 'hb/s', numberAt(r, 'ingestion.perSecond'), {
      baseline: 'raw nats.js pub→sub (parse only)',
      note: 'ingestion in the bench process (its test fixture), publishers in the same process',
    });
    ctx.record('ingestion: heartbeats accepted', 'count', numberAt(r, 'ingestion.accepted'));
    ctx.record('body check, class-validator DTO', 'µs/msg', numberAt(r, 'validation.classValidatorMicros'));
    ctx.record(
      'body check, hand-rolled (used by ingestion)',
      'µs/msg',
      numberAt(r, 'validation.handRolledMicros'),
    );
    ctx.note(
      `${numberAt(r, 'messages')} heartbeats from ${numberAt(r, 'agents')} agents over ${numberAt(r, 'connections')} connections`,
    );
  },
});

export const ingestionMetrics = externalScenario({
  name: 'ingestion-metrics',
  title: 'Metrics path: ingestion commits vs raw JetStream, SQLite and PostgreSQL',
  file: join(__dirname, 'ingestion-metrics.ts'),
  timeoutMs: 5 * 60_000,
  parse(stdout, ctx) {
    const r = writtenJson(stdout);
    const perBatch = numberAt(r, 'samplesPerBatch');
    ctx.record('raw JetStream publish', 'samples/s', numberAt(r, 'baseline.publishPerSecond') * perBatch);
    ctx.record(
      'raw JetStream pull + parse + ack',
      'samples/s',
      numberAt(r, 'baseline.consumePerSecond') * perBatch,
    );
    const runs = Array.isArray(r.ingestion) ? (r.ingestion as Record<string, unknown>[]) : [];
    if (!runs.length) throw new Error('the script reported no ingestion runs');
    for (const run of runs) {
      const engine = String(run.engine);
      ctx.record(`ingestion → ${engine}: samples committed`, 'samples/s', numberAt(run, 'samplesPerSecond'), {
        baseline: 'raw JetStream pull + parse + ack',
      });
      ctx.record(`ingestion → ${engine}: mean commit`, 'ms', numberAt(run, 'meanCommitMs'));
    }
    ctx.note(`${numberAt(r, 'batches')} batches × ${perBatch} samples from ${numberAt(r, 'agents')} agents`);
  },
});
