import {
  CollectionStatus,
  CollectorError,
  MAX_HEARTBEAT_SOURCES,
  MAX_SAMPLES_PER_BATCH,
  MetricSample,
  SourceHealth,
} from '@app/contracts';
import { Collector, PartialCollectionError } from '../agent-type';

export interface CollectionResult {
  samples: MetricSample[];
  status: CollectionStatus;
}

/**
 * Samples kept from one collection: sent as up to ten batches of MAX_SAMPLES_PER_BATCH (the publisher
 * splits them), so a 10,000-series scrape target travels whole. About 9 MiB of JSON, half the outage buffer.
 */
export const MAX_SAMPLES_PER_COLLECTION = 10 * MAX_SAMPLES_PER_BATCH;
/** Error text kept per failed collector; the heartbeat DTO allows 1000 characters. */
const MAX_ERROR_LENGTH = 500;
/** Errors kept per collection: the heartbeat DTO allows 100, and a longer list would refuse the heartbeat. */
const MAX_ERRORS = 100;

class CollectorTimeoutError extends Error {}

/**
 * Runs every collector concurrently, each bounded by `timeoutMs`. A collector that throws or hangs
 * only adds an entry to `status.errors`; the others' samples are kept. A collector still hanging from
 * an earlier round is not started again (it would pile up promises and sockets); it is reported instead.
 */
export class CollectorRunner {
  private readonly inFlight = new Set<string>();

  constructor(
    private collectors: Collector[],
    private timeoutMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** From the next collection on (remote configuration): these collectors, this timeout. */
  use(collectors: Collector[], timeoutMs: number): void {
    this.collectors = collectors;
    this.timeoutMs = timeoutMs;
  }

  /** The health of the sources that report one (app-metrics collectors), as many as a heartbeat carries. */
  sourceHealth(): SourceHealth[] {
    return this.collectors.flatMap((c) => c.health?.() ?? []).slice(0, MAX_HEARTBEAT_SOURCES);
  }

  async collect(): Promise<CollectionResult> {
    const startedAt = this.clock();
    const results = await Promise.all(this.collectors.map((c) => this.runOne(c)));
    const samples: MetricSample[] = [];
    const errors: CollectorError[] = [];
    for (const r of results) {
      if (r.error) errors.push(r.error);
      samples.push(...r.samples);
    }
    if (samples.length > MAX_SAMPLES_PER_COLLECTION) {
      errors.push({
        collector: '(batch)',
        error: `${samples.length} samples; kept the first ${MAX_SAMPLES_PER_COLLECTION}`,
      });
      samples.length = MAX_SAMPLES_PER_COLLECTION;
    }
    if (errors.length > MAX_ERRORS) {
      const more = errors.length - (MAX_ERRORS - 1);
      errors.length = MAX_ERRORS - 1;
      errors.push({ collector: '(more)', error: `${more} more collectors failed` });
    }
    const at = this.clock();
    for (const s of samples) s.ts ??= at;
    return {
      samples,
      status: { ok: errors.length === 0, at, durationMs: at - startedAt, samples: samples.length, errors },
    };
  }

  private async runOne(collector: Collector): Promise<{ samples: MetricSample[]; error?: CollectorError }> {
    const fail = (message: string, samples: MetricSample[] = []) => ({
      samples,
      error: { collector: collector.name, error: message.slice(0, MAX_ERROR_LENGTH) },
    });
    if (this.inFlight.has(collector.name)) return fail('still running since an earlier collection (hung)');
    this.inFlight.add(collector.name);
    // Promise.resolve().then: a collector that throws synchronously is handled like one that rejects.
    const run = Promise.resolve()
      .then(() => collector.collect())
      .finally(() => this.inFlight.delete(collector.name));
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = collector.timeoutMs ?? this.timeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CollectorTimeoutError(`timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return { samples: await Promise.race([run, timeout]) };
    } catch (error) {
      // A late rejection of the abandoned run must not become an unhandled rejection.
      run.catch(() => undefined);
      if (error instanceof PartialCollectionError) return fail(error.message, error.samples);
      return fail(error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }
}
