import { MetricSample } from '@app/contracts';

/**
 * StatsD lines (`name:value|type[|@rate][|#tag:value,…]`, DogStatsD tags) aggregated per collection:
 * counters summed (scaled by 1/rate), gauges kept at their last value (`+n`/`-n` adjust it) and sent
 * every collection, timers/histograms (`ms`, `h`, `d`) summarised as count, sum, min, max, mean, p50,
 * p90, p99, sets as their count of distinct values. Names not storable as they are get `_` for each
 * other character. New series past `maxSeries` are dropped and counted.
 */
export class StatsdAggregator {
  private readonly counters = new Map<string, Entry<number>>();
  private readonly gauges = new Map<string, Entry<number>>();
  private readonly timers = new Map<string, Entry<number[]>>();
  private readonly sets = new Map<string, Entry<Set<string>>>();
  private malformed = 0;
  private dropped = 0;

  constructor(private readonly maxSeries: number) {}

  /** One datagram: one or more lines. */
  ingest(packet: string): void {
    for (const line of packet.split('\n')) if (line.trim()) this.ingestLine(line.trim());
  }

  /** This interval's samples; counters, timers and sets start again from zero. */
  flush(): { samples: MetricSample[]; problems?: string } {
    const samples: MetricSample[] = [];
    const base = { source: 'statsd' };
    for (const e of this.counters.values())
      samples.push({ name: e.name, value: e.value, tags: { ...base, ...e.tags } });
    for (const e of this.gauges.values())
      samples.push({ name: e.name, value: e.value, tags: { ...base, ...e.tags } });
    for (const e of this.sets.values())
      samples.push({ name: e.name, value: e.value.size, tags: { ...base, ...e.tags } });
    for (const e of this.timers.values()) {
      const v = e.value.sort((a, b) => a - b);
      const sum = v.reduce((a, b) => a + b, 0);
      const at = (q: number) => v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)];
      const stats: [string, number][] = [
        ['count', v.length],
        ['sum', sum],
        ['min', v[0]],
        ['max', v[v.length - 1]],
        ['mean', sum / v.length],
        ['p50', at(0.5)],
        ['p90', at(0.9)],
        ['p99', at(0.99)],
      ];
      for (const [stat, value] of stats)
        samples.push({ name: `${e.name}.${stat}`, value, tags: { ...base, ...e.tags } });
    }
    const problems = [
      this.malformed ? `${this.malformed} malformed lines` : '',
      this.dropped ? `${this.dropped} lines of new series dropped past max series` : '',
    ]
      .filter(Boolean)
      .join('; ');
    this.counters.clear();
    this.timers.clear();
    this.sets.clear();
    this.malformed = this.dropped = 0;
    return { samples, problems: problems || undefined };
  }

  private ingestLine(line: string): void {
    const match = /^([^:|]+):([^|]+)\|(c|g|ms|h|d|s)(\|.*)?$/.exec(line);
    if (!match) return void this.malformed++;
    const [, rawName, rawValue, type, options = ''] = match;
    let rate = 1;
    let tags: Record<string, string> = {};
    for (const option of options.split('|').slice(1)) {
      if (option.startsWith('@')) rate = Number(option.slice(1));
      else if (option.startsWith('#')) tags = parseTags(option.slice(1));
    }
    if (!(rate > 0 && rate <= 1)) return void this.malformed++;
    const name = storableName(rawName);
    const key = `${name}\u0000${JSON.stringify(tags)}`;
    if (type === 's') {
      const entry = this.entry(this.sets, key, name, tags, () => new Set<string>());
      entry?.value.add(rawValue);
      return;
    }
    const value = Number(rawValue);
    if (!Number.isFinite(value) || rawValue.trim() === '') return void this.malformed++;
    if (type === 'c') {
      const entry = this.entry(this.counters, key, name, tags, () => 0);
      if (entry) entry.value += value / rate;
    } else if (type === 'g') {
      const relative = /^[+-]/.test(rawValue);
      const entry = this.entry(this.gauges, key, name, tags, () => 0);
      if (entry) entry.value = relative ? entry.value + value : value;
    } else {
      const entry = this.entry(this.timers, key, name, tags, () => [] as number[]);
      entry?.value.push(value);
    }
  }

  private entry<T>(
    map: Map<string, Entry<T>>,
    key: string,
    name: string,
    tags: Record<string, string>,
    initial: () => T,
  ): Entry<T> | undefined {
    let entry = map.get(key);
    if (!entry) {
      if (this.size() >= this.maxSeries) return void this.dropped++;
      map.set(key, (entry = { name, tags, value: initial() }));
    }
    return entry;
  }

  private size(): number {
    return this.counters.size + this.gauges.size + this.timers.size + this.sets.size;
  }
}

interface Entry<T> {
  name: string;
  tags: Record<string, string>;
  value: T;
}

/** `env:prod,region:eu` → { env: 'prod', region: 'eu' }; a bare `canary` → { canary: 'true' }. At most 12. */
function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of text.split(',').slice(0, 12)) {
    const at = pair.indexOf(':');
    const key = (at === -1 ? pair : pair.slice(0, at)).replace(/[^a-zA-Z0-9_]/g, '_');
    if (key && key !== 'source') tags[key] = at === -1 ? 'true' : pair.slice(at + 1).slice(0, 200);
  }
  return tags;
}

function storableName(raw: string): string {
  const name = raw.replace(/[^a-zA-Z0-9_.:]/g, '_').slice(0, 180);
  return /^[a-zA-Z_]/.test(name) ? name : `_${name}`;
}
