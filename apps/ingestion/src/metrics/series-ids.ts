/**
 * Series ids this process has seen, so a write resolves (agent, name, tags) → id without a query.
 * Nested maps rather than one joined key: a lookup hashes the strings the batch already holds and
 * builds none. Bounded: past MAX_ENTRIES it starts over (the ids are in the database; a miss costs one
 * look-up per agent). 100,000 agents × 20 series fit.
 */
const MAX_ENTRIES = 4_000_000;

export class SeriesIds {
  private readonly byAgent = new Map<string, Map<string, Map<string, number>>>();
  private size = 0;

  get(agentId: string, name: string, tags: string): number | undefined {
    return this.byAgent.get(agentId)?.get(name)?.get(tags);
  }

  set(agentId: string, name: string, tags: string, id: number): void {
    if (this.size >= MAX_ENTRIES) {
      this.byAgent.clear();
      this.size = 0;
    }
    let names = this.byAgent.get(agentId);
    if (!names) this.byAgent.set(agentId, (names = new Map()));
    let tagSets = names.get(name);
    if (!tagSets) names.set(name, (tagSets = new Map()));
    if (!tagSets.has(tags)) this.size++;
    tagSets.set(tags, id);
  }
}
