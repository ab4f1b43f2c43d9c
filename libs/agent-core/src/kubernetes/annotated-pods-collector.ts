import type { V1Pod } from '@kubernetes/client-node';
import { MetricSample } from '@app/contracts';
import { Collector, PartialCollectionError } from '../agent-type';
import { ScrapeCollector } from '../app-metrics/scrape-collector';
import { MAX_SCRAPED_PODS, scrapeTargetOfPod } from './annotated-pods';

/** Pods are listed again this often: new pods are found within a minute, without a list per collection. */
const DISCOVERY_REFRESH_MS = 60_000;
/** Failed pods named in the collector's error; the rest are counted. */
const NAMED_FAILURES = 3;

/**
 * `scrape:kubernetes-pods`: scrapes every pod in the agent's scope annotated `prometheus.io/scrape: "true"`
 * (at most MAX_SCRAPED_PODS), each as a ScrapeCollector of its own (job `<namespace>/<pod>`). A pod that
 * fails is named in this collector's error while the others' samples are kept.
 */
export class AnnotatedPodsCollector implements Collector {
  readonly name = 'scrape:kubernetes-pods';
  private scrapers = new Map<string, ScrapeCollector>();
  private discoveredAt?: number;
  private skipped = 0;

  constructor(
    private readonly listPods: () => Promise<V1Pod[]>,
    private readonly collectIntervalSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async collect(): Promise<MetricSample[]> {
    if (this.discoveredAt === undefined || this.clock() - this.discoveredAt >= DISCOVERY_REFRESH_MS)
      await this.discover();
    // Keys are `<job> <url>`; a job (namespace/pod) has no space.
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
        ? `${failed.length} of ${jobs.length} pods failed: ${failed.slice(0, NAMED_FAILURES).join('; ')}`
        : '',
      this.skipped ? `${this.skipped} annotated pods not scraped (at most ${MAX_SCRAPED_PODS})` : '',
    ].filter(Boolean);
    if (problems.length) throw new PartialCollectionError(problems.join('; '), samples);
    return samples;
  }

  /** Keeps the scraper of a pod still there (its interval and in-flight state), adds new ones, drops gone ones. */
  private async discover(): Promise<void> {
    const targets = (await this.listPods()).flatMap((pod) => scrapeTargetOfPod(pod) ?? []);
    this.discoveredAt = this.clock();
    this.skipped = Math.max(0, targets.length - MAX_SCRAPED_PODS);
    const next = new Map<string, ScrapeCollector>();
    for (const target of targets.slice(0, MAX_SCRAPED_PODS)) {
      const key = `${target.job} ${target.url}`;
      next.set(
        key,
        this.scrapers.get(key) ?? new ScrapeCollector(target, this.collectIntervalSeconds, this.clock),
      );
    }
    this.scrapers = next;
  }
}
