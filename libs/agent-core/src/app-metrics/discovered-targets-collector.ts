import { MetricSample, SourceHealth } from '@app/contracts';
import { Collector, PartialCollectionError } from '../agent-type';
import { ScrapeCollector } from './scrape-collector';
import { ScrapeTargetConfig } from './scrape-config';

/** Targets are discovered again this often: new ones are found within a minute, without a list per collection. */
const DISCOVERY_REFRESH_MS = 60_000;
/** Failed targets named in the collector's error; the rest are counted. */
const NAMED_FAILURES = 3;
/** Discovered targets scraped at most by one agent: each is a scrape per interval from the agent's process. */
export const MAX_DISCOVERED_TARGETS = 50;

/**
 * Scrapes the targets a discovery finds (annotated Kubernetes pods, labelled Docker containers), at most
 * MAX_DISCOVERED_TARGETS, each as a ScrapeCollector of its own, as one collector: a target that fails is
 * named in this collector's error (`1 of 4 pods failed: team-a/api-1: HTTP 500`) while the others'
 * samples are kept.
 */
export class DiscoveredTargetsCollector implements Collector {
  private scrapers = new Map<string, ScrapeCollector>();
  private discoveredAt?: number;
  private skipped = 0;

  constructor(
    readonly name: string,
    /** What the targets are, in the error: `pods`, `containers`. */
    private readonly noun: string,
    private readonly discoverTargets: () => Promise<ScrapeTargetConfig[]>,
    private readonly collectIntervalSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Each discovered target's own health, named `scrape:<namespace/pod>` or `scrape:<container>`. */
  health(): SourceHealth[] {
    return [...this.scrapers.values()].flatMap((scraper) => scraper.health());
  }

  async collect(): Promise<MetricSample[]> {
    if (this.discoveredAt === undefined || this.clock() - this.discoveredAt >= DISCOVERY_REFRESH_MS)
      await this.discover();
    // Keys are `<job> <url>`; a discovered job (namespace/pod, container name) has no space.
    const jobs = [...this.scrapers.keys()].map((key) => key.slice(0, key.indexOf(' ')));
    const results = await Promise.all(
      [...this.scrapers.values()].map((scraper) =>
        scraper.collect().then(
          (samples) => ({ samples, error: undefined as string | undefined }),
          (error: unknown) => ({
            samples: error instanceof PartialCollectionError ? error.samples : [],
            error: error instanceof Error ? error.message : String(error),
          }),
        ),
      ),
    );
    const samples = results.flatMap((r) => r.samples);
    const failed = results.flatMap((r, i) => (r.error === undefined ? [] : [`${jobs[i]}: ${r.error}`]));
    const problems = [
      failed.length
        ? `${failed.length} of ${jobs.length} ${this.noun} failed: ${failed.slice(0, NAMED_FAILURES).join('; ')}`
        : '',
      this.skipped ? `${this.skipped} ${this.noun} not scraped (at most ${MAX_DISCOVERED_TARGETS})` : '',
    ].filter(Boolean);
    if (problems.length) throw new PartialCollectionError(problems.join('; '), samples);
    return samples;
  }

  /** Keeps the scraper of a target still there (its interval and in-flight state), adds new ones, drops gone ones. */
  private async discover(): Promise<void> {
    const targets = await this.discoverTargets();
    this.discoveredAt = this.clock();
    this.skipped = Math.max(0, targets.length - MAX_DISCOVERED_TARGETS);
    const next = new Map<string, ScrapeCollector>();
    for (const target of targets.slice(0, MAX_DISCOVERED_TARGETS)) {
      const key = `${target.job} ${target.url}`;
      next.set(
        key,
        this.scrapers.get(key) ?? new ScrapeCollector(target, this.collectIntervalSeconds, this.clock),
      );
    }
    this.scrapers = next;
  }
}
