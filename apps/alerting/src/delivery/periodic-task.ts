import { isDependencyUnavailable } from '@app/contracts';
import { Logger } from '@nestjs/common';

/**
 * Runs `work` every `intervalMs`, never overlapping itself: the next run is scheduled when the
 * previous one ends. `stop()` waits for a run in progress, so shutdown does not cut a
 * transaction or an HTTP delivery in half.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.work()
        .catch((err: unknown) => {
          // A database outage is logged once by the database's health, not every tick.
          if (!isDependencyUnavailable(err))
            this.logger.error({ err, task: this.name }, `${this.name} failed; retrying next tick`);
        })
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.intervalMs);
  }
}
