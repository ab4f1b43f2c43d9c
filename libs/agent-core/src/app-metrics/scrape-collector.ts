import { readFileSync } from 'node:fs';
import { MetricSample, SourceHealth } from '@app/contracts';
import { Collector } from '../agent-type';
import { AppSampleShaper } from './app-sample-shaper';
import { boundedGet } from './bounded-http-get';
import { parseExposition } from './exposition-parser';
import { PluginRun, PluginSchedule } from './interval-gate';
import { ScrapeTargetConfig } from './scrape-config';
import { runHealth } from './source-health';

/** Prometheus' own preference order: the classic text first, so counters keep their exposed names. */
const ACCEPT = 'text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';
/** The runner's backstop beyond what a collection waits for a scrape, so the scrape reports its own error. */
const RUNNER_GRACE_MS = 1000;

/**
 * One Prometheus/OpenMetrics target as a collector named `scrape:<job>`. It scrapes when its interval
 * is due (a collection in between returns nothing), bounded by its timeout, max_bytes and max_series,
 * beside the collection loop (PluginSchedule): a slow scrape's samples come with a later collection.
 * Every scrape also yields its health: `scrape.up` (1/0), `scrape.duration` and `scrape.series`; a
 * failed one is reported as this collector's error in the heartbeat, with those health samples kept.
 */
export class ScrapeCollector implements Collector {
  readonly name: string;
  readonly timeoutMs: number;
  private readonly job: string;
  private readonly schedule: PluginSchedule;
  private last?: SourceHealth;

  constructor(
    private readonly target: ScrapeTargetConfig,
    defaultIntervalSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.job = target.job ?? target.url;
    this.name = `scrape:${this.job}`;
    this.schedule = new PluginSchedule(
      (target.interval ?? defaultIntervalSeconds) * 1000,
      target.timeout * 1000,
      defaultIntervalSeconds,
    );
    this.timeoutMs = this.schedule.waitMs + RUNNER_GRACE_MS;
  }

  collect(): Promise<MetricSample[]> {
    return this.schedule.collect(this.clock(), () => this.scrape());
  }

  health(): SourceHealth[] {
    return this.last ? [this.last] : [];
  }

  /** One scrape; its health is kept for the heartbeat whether it failed or not. */
  private async scrape(): Promise<PluginRun> {
    const startedAt = this.clock();
    const baseTags = { source: 'scrape', target: this.job };
    const shaper = new AppSampleShaper({
      baseTags: { ...baseTags, ...this.target.labels },
      allow: this.target.allow,
      deny: this.target.deny,
      maxSeries: this.target.max_series,
    });
    const health = (up: number): MetricSample[] => [
      { name: 'scrape.up', value: up, unit: '1', tags: baseTags },
      { name: 'scrape.duration', value: (this.clock() - startedAt) / 1000, unit: 's', tags: baseTags },
      { name: 'scrape.series', value: up ? shaper.samples.length : 0, unit: '1', tags: baseTags },
    ];
    const done = (run: PluginRun, failed: boolean): PluginRun => {
      this.last = runHealth(this.name, {
        startedAt,
        endedAt: this.clock(),
        failed,
        problem: run.error,
        series: shaper.samples.length,
      });
      return run;
    };
    try {
      const body = await boundedGet(this.target.url, {
        timeoutMs: this.target.timeout * 1000,
        maxBytes: this.target.max_bytes,
        headers: this.headers(),
        ca: this.target.tls?.ca_file ? readFileSync(this.target.tls.ca_file, 'utf8') : undefined,
        insecureSkipVerify: this.target.tls?.insecure_skip_verify === true,
      });
      parseExposition(body, (sample) => shaper.add(sample));
    } catch (error) {
      return done(
        { samples: health(0), error: error instanceof Error ? error.message : String(error) },
        true,
      );
    }
    return done({ samples: [...shaper.samples, ...health(1)], error: shaper.skippedSummary() }, false);
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { Accept: ACCEPT, 'User-Agent': 'rca-agent' };
    // Read at every scrape: a rotated token (a Kubernetes service-account token) is picked up.
    if (this.target.bearer_token_file)
      headers.Authorization = `Bearer ${readFileSync(this.target.bearer_token_file, 'utf8').trim()}`;
    return headers;
  }
}
