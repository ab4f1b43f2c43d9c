import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock, PeriodicJob } from '@app/clock';
import { IngestionConfig } from '../config';
import { HOUR_MS } from '../metrics/chunk-codec';
import { StoredMetricsRepository } from '../metrics/stored-metrics.repository';
import { CompactionRepository } from './compaction.repository';
import { MINUTE_MS } from '../query/series-reader';
import { compactHour, dayOf, dayRollup } from './hour-compactor';

/** Work list read per query: (agent, hour) pairs, each then compacted in its own short transaction. */
const PENDING_PAGE = 500;
/**
 * An hour is compacted once it has been over this long: batches of the last seconds of the hour are
 * still arriving just after it. A later batch for that hour is simply compacted on a later run.
 */
const HOUR_SETTLE_MS = 2 * MINUTE_MS;

/**
 * Merges the chunks of each finished (agent, hour) into one compacted chunk, and writes its 1-minute
 * rollups and its day's 1-hour rollups (a row per metric name). Done after the fact rather than at
 * write time: at write time every batch would update 2 rollup rows per series (measured in
 * BENCHMARKS.md), here each hour is read and written once.
 */
@Injectable()
export class CompactionJob {
  private readonly logger = new Logger(CompactionJob.name);
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly repository: CompactionRepository,
    private readonly stored: StoredMetricsRepository,
    @Inject(Clock) private readonly clock: Clock,
    config: IngestionConfig,
  ) {
    this.job = new PeriodicJob({
      everySeconds: config.METRICS_COMPACTION_INTERVAL_SECONDS,
      pass: () => this.pass(),
      logger: this.logger,
      failureMessage: 'compaction run failed',
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass over every finished hour with uncompacted chunks; returns how many hours were compacted. */
  run(): Promise<number> {
    return this.job.run();
  }

  private async pass(): Promise<number> {
    const before = this.clock.now() - HOUR_MS - HOUR_SETTLE_MS;
    let compacted = 0;
    for (;;) {
      const pending = await this.repository.pendingHours(before + 1, PENDING_PAGE);
      let done = 0;
      for (const { agentId, hourStart } of pending) if (await this.compact(agentId, hourStart)) done++;
      compacted += done;
      // A page another instance took from under us ends the run rather than spinning on it.
      if (pending.length < PENDING_PAGE || done === 0) break;
    }
    if (compacted) this.logger.log({ hours: compacted }, 'metric hours compacted');
    return compacted;
  }

  private async compact(agentId: string, hourStart: number): Promise<boolean> {
    const chunks = await this.stored.chunksOf(agentId, hourStart, hourStart + HOUR_MS, 'all');
    if (!chunks.some((c) => !c.compacted)) return false;
    const nameOf = new Map((await this.stored.seriesOf(agentId)).map((s) => [s.seriesId, s.name]));
    const hour = compactHour(hourStart, chunks, nameOf);
    const day = dayOf(hourStart);
    return this.repository.replaceHour(
      agentId,
      hourStart,
      chunks.map((c) => c.chunkId),
      { data: hour.chunk, sampleCount: hour.sampleCount },
      hour.minuteRollups,
      { start: day, stepMs: HOUR_MS, minuteStepMs: MINUTE_MS, build: (rows) => dayRollup(day, rows) },
    );
  }
}
