import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '@app/clock';
import { isDependencyUnavailable } from '@app/contracts';
import { IngestionConfig } from '../config';
import { MetricsRepository } from '../metrics/metrics.repository';

/** Rows per DELETE: small enough that a run never holds the write lock long enough to stall ingestion. */
const DELETE_BATCH_ROWS = 10_000;
const DAY_MS = 86_400_000;

/**
 * Deletes samples older than METRICS_RETENTION_DAYS in bounded batches. Batch keys are kept at
 * least as long as AGENT_METRICS keeps messages, since a redelivery must still find its key.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger(RetentionJob.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly repository: MetricsRepository,
    @Inject(Clock) private readonly clock: Clock,
    private readonly config: IngestionConfig,
  ) {}

  start(): void {
    this.timer ??= setInterval(
      () =>
        void this.run().catch((error: unknown) => {
          if (!isDependencyUnavailable(error)) this.logger.warn({ err: error }, 'retention run failed');
        }),
      this.config.METRICS_RETENTION_INTERVAL_SECONDS * 1000,
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many samples were deleted. */
  run(): Promise<number> {
    this.running ??= (async () => {
      try {
        const now = this.clock.now();
        const cutoff = now - this.config.METRICS_RETENTION_DAYS * DAY_MS;
        let deleted = 0;
        for (;;) {
          const n = await this.repository.deleteSamplesBefore(cutoff, DELETE_BATCH_ROWS);
          deleted += n;
          if (n < DELETE_BATCH_ROWS) break;
        }
        const keyCutoff = Math.min(cutoff, now - this.config.METRICS_STREAM_MAX_AGE_SECONDS * 1000);
        await this.repository.deleteBatchKeysBefore(keyCutoff);
        if (deleted) this.logger.log({ deleted, cutoff }, 'old samples deleted');
        return deleted;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
