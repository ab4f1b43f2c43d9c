import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock, PeriodicJob } from '@app/clock';
import { IngestionConfig } from '../config';
import { HOUR_MS } from '../metrics/chunk-codec';
import { MetricsRepository } from '../metrics/metrics.repository';
import { DAY_MS, ROLLUP_TIERS } from '../query/series-reader';

/** Chunks per DELETE: an hour of one agent each, so a run never holds the write lock long enough to stall ingestion. */
const DELETE_BATCH_CHUNKS = 2_000;

/**
 * Drops whole chunks (an agent's hour) that ended more than METRICS_RETENTION_DAYS ago, and rollup
 * rows past METRICS_ROLLUP_RETENTION_DAYS. Batch keys are kept at least as long as AGENT_METRICS keeps
 * messages, since a redelivery must still find its key.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger(RetentionJob.name);
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly repository: MetricsRepository,
    @Inject(Clock) private readonly clock: Clock,
    private readonly config: IngestionConfig,
  ) {
    this.job = new PeriodicJob({
      everySeconds: config.METRICS_RETENTION_INTERVAL_SECONDS,
      pass: () => this.pass(),
      logger: this.logger,
      failureMessage: 'retention run failed',
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass; returns how many samples were deleted (in whole chunks). */
  run(): Promise<number> {
    return this.job.run();
  }

  private async pass(): Promise<number> {
    const now = this.clock.now();
    const cutoff = now - this.config.METRICS_RETENTION_DAYS * DAY_MS;
    let deleted = 0;
    let chunks = 0;
    for (;;) {
      const n = await this.repository.deleteChunksBefore(cutoff, DELETE_BATCH_CHUNKS);
      deleted += n.samples;
      chunks += n.chunks;
      if (n.chunks < DELETE_BATCH_CHUNKS) break;
    }
    const rollupDays = Math.max(
      this.config.METRICS_ROLLUP_RETENTION_DAYS,
      this.config.METRICS_RETENTION_DAYS,
    );
    for (const tier of ROLLUP_TIERS)
      await this.repository.deleteRollupsBefore(now - rollupDays * DAY_MS, tier.stepMs, tier.windowMs);
    const keyCutoff = Math.min(cutoff, now - this.config.METRICS_STREAM_MAX_AGE_SECONDS * 1000);
    await this.repository.deleteBatchKeysBefore(keyCutoff);
    if (deleted)
      this.logger.log(
        { deleted, chunks, cutoff: Math.floor(cutoff / HOUR_MS) * HOUR_MS },
        'old samples deleted',
      );
    return deleted;
  }
}
