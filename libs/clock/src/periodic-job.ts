import { LoggerService } from '@nestjs/common';
import { isDependencyUnavailable } from '@app/contracts';

export interface PeriodicJobOptions<T> {
  /** Seconds between passes (from the service's config); 0 = the job never runs on its own. */
  everySeconds: number;
  /** One pass of the job. */
  pass: () => Promise<T>;
  /** The job's own logger, so a failure is logged under the job's name. */
  logger: Pick<LoggerService, 'warn'>;
  /** What a failed pass is logged as ('retention run failed'). */
  failureMessage: string;
  /** The timer alone does not keep the process up. */
  unref?: boolean;
}

/**
 * A background pass repeated on a timer, one at a time: a tick that finds the previous pass still going
 * joins it rather than starting another. A failed pass is logged and the next tick tries again; an
 * unavailable dependency is not logged here, since its health check already reports the outage.
 */
export class PeriodicJob<T> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<T>;

  constructor(private readonly options: PeriodicJobOptions<T>) {}

  start(): void {
    const { everySeconds, unref } = this.options;
    if (!everySeconds || this.timer) return;
    this.timer = setInterval(
      () => void this.run().catch((error: unknown) => this.failed(error)),
      everySeconds * 1000,
    );
    if (unref) this.timer.unref();
  }

  /** Stops the timer and waits for the pass in flight, whatever its outcome. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass now, or the one already going: concurrent callers share it. Rejects when the pass fails. */
  run(): Promise<T> {
    // Through an async function so that a pass which throws before its first await still rejects.
    this.running ??= (async () => this.options.pass())().finally(() => (this.running = undefined));
    return this.running;
  }

  private failed(error: unknown): void {
    if (!isDependencyUnavailable(error))
      this.options.logger.warn({ err: error }, this.options.failureMessage);
  }
}
