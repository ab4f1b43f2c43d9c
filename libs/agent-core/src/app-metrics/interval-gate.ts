import { MetricSample } from '@app/contracts';
import { PartialCollectionError } from '../agent-type';

/** Collections are spaced from their start times; a source is due when its interval has nearly passed. */
const DUE_TOLERANCE_MS = 250;
/** Share of the agent's collection interval a collection waits for a plugin run it started. */
const WAIT_SHARE = 0.8;

/**
 * Lets a plugin with its own interval run inside the agent's collection loop: due at the first
 * collection, then at the first collection once `intervalMs` has passed since it last ran.
 */
export class IntervalGate {
  private lastStartedAt?: number;

  constructor(private readonly intervalMs: number) {}

  /** True (and the start recorded) when due at `now`. */
  take(now: number): boolean {
    if (this.lastStartedAt !== undefined && now - this.lastStartedAt < this.intervalMs - DUE_TOLERANCE_MS)
      return false;
    this.lastStartedAt = now;
    return true;
  }
}

/** What one run of a plugin yields; `error` set when it failed (its samples are then its health). */
export interface PluginRun {
  samples: MetricSample[];
  error?: string;
}

/**
 * Runs a plugin (a scrape, a command) when its interval is due, beside the collection loop rather than
 * inside it: the collection that starts a run waits for it at most `waitMs` (its own timeout, but no
 * more than 80 % of the agent's collection interval), so a slow target never holds up the agent's
 * other collectors; a run that lands later is sent with the next collection. One run at a time.
 */
export class PluginSchedule {
  private readonly gate: IntervalGate;
  readonly waitMs: number;
  private running?: Promise<void>;
  private ready?: PluginRun;

  constructor(intervalMs: number, timeoutMs: number, collectIntervalSeconds: number) {
    this.gate = new IntervalGate(intervalMs);
    this.waitMs = Math.min(timeoutMs, collectIntervalSeconds * 1000 * WAIT_SHARE);
  }

  /** This collection's samples; throws PartialCollectionError when the run being reported failed. */
  async collect(now: number, run: () => Promise<PluginRun>): Promise<MetricSample[]> {
    if (!this.running && this.gate.take(now)) {
      const started = run().then((result) => {
        this.ready = result;
      });
      this.running = started.finally(() => (this.running = undefined));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([started, new Promise((r) => (timer = setTimeout(r, this.waitMs)))]);
      clearTimeout(timer);
    }
    const result = this.ready;
    this.ready = undefined;
    if (!result) return [];
    if (result.error !== undefined) throw new PartialCollectionError(result.error, result.samples);
    return result.samples;
  }
}
