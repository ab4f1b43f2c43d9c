import { Collector } from '../agent-type';
import {
  APP_METRICS_SECTIONS,
  APP_METRICS_SECTION_NAMES,
  AppMetricsSection,
  ParsedAppMetrics,
} from './app-metrics-sections';

/** A collector holding a resource (a UDP socket, a loaded plugin) to release when it is removed. */
interface Closable {
  close(): void;
}
const closable = (collector: Collector): collector is Collector & Closable =>
  typeof (collector as Partial<Closable>).close === 'function';

/**
 * The application-metrics collectors an agent runs now: its own settings (`own`), with each section a
 * remote configuration sets over them. `apply` rebuilds the set live: a source whose config did not
 * change keeps its collector (its schedule, its bound socket), a removed one is closed, a new one starts
 * at the next collection.
 */
export class AppMetricsSources {
  private running = new Map<string, Collector>();

  constructor(
    private readonly own: ParsedAppMetrics,
    collectIntervalSeconds: number,
  ) {
    this.apply({}, collectIntervalSeconds);
  }

  collectors(): Collector[] {
    return [...this.running.values()];
  }

  /** Runs `own` with `remote`'s sections over it; returns the collectors now running. */
  apply(remote: ParsedAppMetrics, collectIntervalSeconds: number): Collector[] {
    const effective: Record<string, unknown> = { ...this.own, ...remote };
    const next = new Map<string, Collector>();
    for (const name of APP_METRICS_SECTION_NAMES) {
      if (effective[name] === undefined) continue;
      const definition = APP_METRICS_SECTIONS[name] as AppMetricsSection<unknown>;
      for (const spec of definition.sources(effective[name], collectIntervalSeconds))
        if (!next.has(spec.key)) next.set(spec.key, this.running.get(spec.key) ?? spec.create());
    }
    for (const [key, collector] of this.running) if (!next.has(key) && closable(collector)) collector.close();
    this.running = next;
    return this.collectors();
  }

  /** Releases every source (the agent stops). */
  close(): void {
    for (const collector of this.running.values()) if (closable(collector)) collector.close();
    this.running.clear();
  }
}
