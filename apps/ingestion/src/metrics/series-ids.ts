import { MetricSample } from '@app/contracts';

/**
 * Series ids this process has seen, so a write resolves (agent, name, tags) → id without a query.
 * Nested maps rather than one joined key: a lookup hashes the strings the batch already holds and
 * builds none. Bounded: past MAX_ENTRIES it starts over (the ids are in the database; a miss costs one
 * look-up per agent). 100,000 agents × 20 series fit.
 *
 * Beside them, each agent's last batch by position ("shape"): an agent sends the same series in the
 * same order every collection, so a batch is usually resolved by comparing it with the last one, with
 * no tag text built and no map walked (as Prometheus' scrape cache keeps a target's series refs).
 */
const MAX_ENTRIES = 4_000_000;

/** The series of an agent's last resolved batch, by position: ~1.6 KiB per agent of 20 series (its own strings). */
interface Shape {
  names: string[];
  tags: string[];
  ids: number[];
}

export class SeriesIds {
  private readonly byAgent = new Map<string, Map<string, Map<string, number>>>();
  private readonly shapes = new Map<string, Shape>();
  private size = 0;

  get(agentId: string, name: string, tags: string): number | undefined {
    return this.byAgent.get(agentId)?.get(name)?.get(tags);
  }

  set(agentId: string, name: string, tags: string, id: number): void {
    if (this.size >= MAX_ENTRIES) {
      this.byAgent.clear();
      this.shapes.clear();
      this.size = 0;
    }
    let names = this.byAgent.get(agentId);
    if (!names) this.byAgent.set(agentId, (names = new Map()));
    let tagSets = names.get(name);
    if (!tagSets) names.set(name, (tagSets = new Map()));
    if (!tagSets.has(tags)) this.size++;
    tagSets.set(tags, id);
  }

  /**
   * The ids of `samples` if they are the series of this agent's last remembered batch, in the same
   * order; otherwise undefined. The array is shared: read it, never change it.
   */
  sameShape(agentId: string, samples: readonly MetricSample[]): readonly number[] | undefined {
    const shape = this.shapes.get(agentId);
    if (!shape || shape.ids.length !== samples.length) return undefined;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      if (s.name !== shape.names[i] || !tagsSerialiseTo(s.tags, shape.tags[i])) return undefined;
    }
    return shape.ids;
  }

  /** Keeps a resolved batch as the agent's shape: `tags` are its samples' canonical tags, `ids` their series. */
  remember(agentId: string, samples: readonly MetricSample[], tags: string[], ids: number[]): void {
    this.shapes.set(agentId, { names: samples.map((s) => s.name), tags, ids });
  }
}

/** Sorted keys, so `{b,a}` and `{a,b}` are one series and compare equal as text. */
export function canonicalTags(tags: Record<string, string> | null | undefined): string {
  if (!tags) return '{}';
  const keys = Object.keys(tags);
  if (!keys.length) return '{}';
  // Agents send their tags in order: then the object itself is canonical (no copy on the hot path).
  let ordered = true;
  for (let i = 1; i < keys.length && ordered; i++) ordered = keys[i - 1] < keys[i];
  if (ordered) return JSON.stringify(tags);
  keys.sort();
  const sorted: Record<string, string> = {};
  for (const key of keys) sorted[key] = tags[key];
  return JSON.stringify(sorted);
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** No character JSON would escape that could also appear unescaped in JSON text (`"` and `\`). */
const unescaped = (s: string) => s.indexOf('"') < 0 && s.indexOf('\\') < 0;

/**
 * Whether `canonicalTags(tags) === canonical`, decided without building the text. It may answer false
 * when they are equal (keys out of order, a quote or backslash in a tag); the caller then builds the
 * text. It never answers true when they differ: every key and value matched is free of `"` and `\`,
 * and the other characters JSON escapes (controls, lone surrogates) never occur raw in JSON text.
 */
export function tagsSerialiseTo(tags: Record<string, string> | null | undefined, canonical: string): boolean {
  if (canonical.charCodeAt(0) !== OPEN) return false;
  let pos = 1;
  if (tags) {
    for (const key in tags) {
      const value = tags[key];
      if (typeof value !== 'string' || !unescaped(key) || !unescaped(value)) return false;
      if (pos > 1 && canonical.charCodeAt(pos++) !== COMMA) return false;
      if (canonical.charCodeAt(pos) !== QUOTE || !canonical.startsWith(key, pos + 1)) return false;
      pos += 1 + key.length;
      if (
        canonical.charCodeAt(pos) !== QUOTE ||
        canonical.charCodeAt(pos + 1) !== COLON ||
        canonical.charCodeAt(pos + 2) !== QUOTE ||
        !canonical.startsWith(value, pos + 3)
      )
        return false;
      pos += 3 + value.length;
      if (canonical.charCodeAt(pos++) !== QUOTE) return false;
    }
  }
  return pos + 1 === canonical.length && canonical.charCodeAt(pos) === CLOSE;
}
