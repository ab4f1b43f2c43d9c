/** Key of one series of one agent; NUL cannot occur in stored text (the wire checks refuse it). */
export const seriesKey = (agentId: string, name: string, tags: string) =>
  `${agentId}\u0000${name}\u0000${tags}`;

/**
 * Series ids this process has seen, so a write resolves (agent, name, tags) → id without a query.
 * Bounded: past MAX_ENTRIES it starts over (the ids are in the database; a miss costs one look-up
 * per agent). 100,000 agents × 20 series fit.
 */
const MAX_ENTRIES = 4_000_000;

export class SeriesIds {
  private readonly ids = new Map<string, number>();

  /** `key` from seriesKey. */
  get(key: string): number | undefined {
    return this.ids.get(key);
  }

  set(key: string, id: number): void {
    if (this.ids.size >= MAX_ENTRIES) this.ids.clear();
    this.ids.set(key, id);
  }
}
