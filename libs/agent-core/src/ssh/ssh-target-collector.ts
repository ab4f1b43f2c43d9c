import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { COLLECT_SCRIPT, parseReading, readingSamples, TargetReading } from './proc-readings';
import { runOverSsh, SshCredentials } from './ssh-session';
import { SshTarget } from './ssh-targets';

/**
 * Collects one target over SSH and remembers how it went: the jump-host agent reads
 * `consecutiveFailures` to decide when the target counts as gone. The previous reading is kept
 * for CPU usage and network rates.
 */
export class SshTargetCollector implements Collector {
  consecutiveFailures = 0;
  lastError?: string;
  private previous?: TargetReading;

  constructor(
    readonly target: SshTarget,
    private readonly credentials: SshCredentials,
    /** Tag samples with `target` (when several targets share one batch, as with --once). */
    private readonly tagTarget = false,
    /**
     * `ssh` in a target's own agent (one collector each; errors name the target themselves). Names are
     * unique within a runner, so collectors sharing one batch (--once) are `ssh-1`, `ssh-2`, …
     */
    readonly name = 'ssh',
    private readonly clock: () => number = Date.now,
  ) {}

  /** One reading, kept as the base of the next collection's rates. */
  async read(): Promise<TargetReading> {
    try {
      const output = await runOverSsh(this.target, this.credentials, COLLECT_SCRIPT);
      const reading = parseReading(output, this.clock());
      this.consecutiveFailures = 0;
      this.lastError = undefined;
      return reading;
    } catch (error) {
      this.consecutiveFailures++;
      this.lastError = (error as Error).message;
      throw error;
    }
  }

  async collect(): Promise<MetricSample[]> {
    const reading = await this.read();
    const samples = readingSamples(reading, this.previous);
    this.previous = reading;
    return this.tagTarget
      ? samples.map((s) => ({ ...s, tags: { ...s.tags, target: this.target.address } }))
      : samples;
  }

  /** Reads the target and keeps the reading, so the first collection after it already has rates. */
  async probe(): Promise<TargetReading> {
    const reading = await this.read();
    this.previous = reading;
    return reading;
  }
}
