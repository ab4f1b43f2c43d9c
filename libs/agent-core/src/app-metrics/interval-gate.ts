/** Collections are spaced from their start times; a source is due when its interval has nearly passed. */
const DUE_TOLERANCE_MS = 250;

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
