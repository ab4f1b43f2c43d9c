import { Worker } from 'node:worker_threads';
import { MetricSample, SourceHealth } from '@app/contracts';
import { Collector } from '../agent-type';
import { DEFAULT_SCRAPE_MAX_SERIES } from './scrape-config';
import { AppSampleShaper } from './app-sample-shaper';
import { PluginRun, PluginSchedule } from './interval-gate';
import { PluginFile } from './plugin-directory';
import { PLUGIN_WORKER_SOURCE } from './plugin-worker-source';
import { runHealth } from './source-health';

/** How long a plugin may take to load (import its module) before the load counts as failed. */
const LOAD_TIMEOUT_MS = 5000;
/** A module that did not load is not tried again before this: each try starts a worker and imports it. */
const LOAD_RETRY_MS = 60_000;
/** Beyond its timeout, how long a run may go on ignoring its AbortSignal before its worker is stopped. */
const ABANDON_GRACE_MS = 500;
/** The runner's backstop beyond what a collection waits for a run, so the plugin reports its own error. */
const RUNNER_GRACE_MS = 1000;
const DEFAULT_TIMEOUT_SECONDS = 5;
/** Heap of one plugin's worker: a plugin that leaks fails itself, not the agent. */
const WORKER_HEAP_MB = 64;

interface LoadedPlugin {
  intervalSeconds: number;
  timeoutSeconds: number;
}

type WorkerMessage =
  | { type: 'loaded'; error?: string; name?: string; interval?: number; timeout?: number }
  | { type: 'result'; id: number; samples?: unknown; error?: string }
  | { type: 'log'; message: string };

/**
 * An in-process plugin (plugin-api.ts) as the collector `plugin:<name>`. Its module runs in a worker
 * thread of its own, started at the first collection: whatever it does — throw, reject, never answer,
 * spin, exit, run out of heap — fails only its run (reported as its health and its collector error);
 * a worker that hung or died is replaced at its next run. Samples are checked like a scrape's
 * (storable names and tags, at most 2000 series) and tagged `source=plugin`, `plugin=<name>`.
 */
export class PluginCollector implements Collector {
  readonly name: string;
  readonly timeoutMs: number;
  private worker?: Worker;
  private loading?: Promise<LoadedPlugin>;
  private loadFailure?: { at: number; error: Error };
  private schedule?: PluginSchedule;
  private last?: SourceHealth;
  private nextId = 1;
  private readonly pending = new Map<number, (message: { samples?: unknown; error?: string }) => void>();

  constructor(
    private readonly file: PluginFile,
    private readonly collectIntervalSeconds: number,
    private readonly log: (message: string) => void = () => undefined,
    private readonly clock: () => number = Date.now,
  ) {
    this.name = `plugin:${file.name}`;
    this.timeoutMs =
      Math.min(LOAD_TIMEOUT_MS, collectIntervalSeconds * 800) +
      collectIntervalSeconds * 800 +
      RUNNER_GRACE_MS;
  }

  async collect(): Promise<MetricSample[]> {
    const startedAt = this.clock();
    let plugin: LoadedPlugin;
    try {
      if (this.file.refused) throw new Error(this.file.refused);
      if (this.loadFailure && startedAt - this.loadFailure.at < LOAD_RETRY_MS) throw this.loadFailure.error;
      plugin = await this.load().catch((error: Error) => {
        this.loadFailure = { at: startedAt, error };
        throw error;
      });
      this.loadFailure = undefined;
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      this.last = runHealth(this.name, {
        startedAt,
        endedAt: this.clock(),
        failed: true,
        problem,
        series: 0,
      });
      throw error;
    }
    this.schedule ??= new PluginSchedule(
      plugin.intervalSeconds * 1000,
      plugin.timeoutSeconds * 1000,
      this.collectIntervalSeconds,
    );
    return this.schedule.collect(this.clock(), () => this.run(plugin));
  }

  health(): SourceHealth[] {
    return this.last ? [this.last] : [];
  }

  /** Stops its worker (the agent stops). */
  close(): void {
    this.stopWorker('the agent is stopping');
  }

  private async run(plugin: LoadedPlugin): Promise<PluginRun> {
    const startedAt = this.clock();
    const baseTags = { source: 'plugin', plugin: this.file.name };
    const shaper = new AppSampleShaper({ baseTags, maxSeries: DEFAULT_SCRAPE_MAX_SERIES });
    const health = (up: number): MetricSample[] => [
      { name: 'plugin.up', value: up, unit: '1', tags: baseTags },
      { name: 'plugin.duration', value: (this.clock() - startedAt) / 1000, unit: 's', tags: baseTags },
    ];
    const done = (result: PluginRun, failed: boolean): PluginRun => {
      this.last = runHealth(this.name, {
        startedAt,
        endedAt: this.clock(),
        failed,
        problem: result.error,
        series: shaper.samples.length,
      });
      return result;
    };
    try {
      const samples = await this.request(plugin);
      if (!Array.isArray(samples)) throw new Error('collect() must resolve to an array of samples');
      for (const [i, sample] of samples.entries()) shaper.add(toExposed(sample, i));
    } catch (error) {
      return done(
        { samples: health(0), error: error instanceof Error ? error.message : String(error) },
        true,
      );
    }
    return done({ samples: [...shaper.samples, ...health(1)], error: shaper.skippedSummary() }, false);
  }

  /** Asks the worker for one run; past its timeout (plus a grace for the AbortSignal) the worker is stopped. */
  private request(plugin: LoadedPlugin): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('its worker stopped; it is started again at the next run'));
    const timeoutMs = plugin.timeoutSeconds * 1000;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.stopWorker('hung');
        reject(new Error(`timed out after ${timeoutMs} ms; its worker was stopped`));
      }, timeoutMs + ABANDON_GRACE_MS);
      this.pending.set(id, (message) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (message.error !== undefined) reject(new Error(message.error));
        else resolve(message.samples);
      });
      worker.postMessage({
        type: 'collect',
        id,
        timeoutMs,
        intervalSeconds: plugin.intervalSeconds,
      });
    });
  }

  /** Starts the worker and waits for the plugin's description; a bad export fails here, every time it is tried. */
  private load(): Promise<LoadedPlugin> {
    this.loading ??= new Promise<LoadedPlugin>((resolve, reject) => {
      const worker = new Worker(PLUGIN_WORKER_SOURCE, {
        eval: true,
        workerData: { path: this.file.path },
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
        stdout: true,
        stderr: true,
      });
      worker.unref(); // never what keeps the agent's process alive
      // Its console output is dropped (ctx.log reaches the agent's log); read so it never piles up.
      worker.stdout.resume();
      worker.stderr.resume();
      this.worker = worker;
      const fail = (reason: string) => {
        this.stopWorker(reason);
        reject(new Error(reason));
      };
      const timer = setTimeout(() => fail(`did not load within ${LOAD_TIMEOUT_MS} ms`), LOAD_TIMEOUT_MS);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'log') return this.log(message.message);
        if (message.type === 'result') return this.pending.get(message.id)?.(message);
        clearTimeout(timer);
        if (message.error) return fail(message.error);
        const problem = this.checkDescription(message);
        if (problem) return fail(problem);
        resolve({
          intervalSeconds: message.interval ?? this.collectIntervalSeconds,
          timeoutSeconds: message.timeout ?? Math.min(DEFAULT_TIMEOUT_SECONDS, message.interval ?? Infinity),
        });
      });
      // An uncaught exception or an exit in the plugin ends its worker only.
      worker.on('error', (error) => {
        clearTimeout(timer);
        this.crashed(worker, `crashed: ${error.message}`);
        reject(new Error(`crashed while loading: ${error.message}`));
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        this.crashed(worker, `its worker exited (code ${code})`);
        reject(new Error(`exited while loading (code ${code})`));
      });
    });
    return this.loading;
  }

  private checkDescription(message: {
    name?: string;
    interval?: number;
    timeout?: number;
  }): string | undefined {
    if (message.name !== this.file.name)
      return `its default export is named "${message.name}"; it must be named after its file, "${this.file.name}"`;
    const { interval, timeout } = message;
    if (interval !== undefined && !(Number.isInteger(interval) && interval >= 1 && interval <= 3600))
      return 'interval must be a whole number of seconds from 1 to 3600';
    if (timeout !== undefined && !(timeout >= 0.1 && timeout <= 60))
      return 'timeout must be from 0.1 to 60 seconds';
    if (timeout !== undefined && timeout > (interval ?? this.collectIntervalSeconds))
      return 'timeout must not be longer than interval';
    return undefined;
  }

  /** The worker died: what was waiting on it fails, and the next run starts a new one (same schedule: same file). */
  private crashed(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.loading = undefined;
    for (const answer of [...this.pending.values()]) answer({ error: reason });
  }

  private stopWorker(reason: string): void {
    const worker = this.worker;
    if (!worker) return;
    this.crashed(worker, reason);
    void worker.terminate();
  }
}

/** A plugin's sample as the shaper takes it; anything malformed fails the run, naming the entry. */
function toExposed(
  sample: unknown,
  i: number,
): { name: string; value: number; labels: Record<string, string> } {
  if (sample === null || typeof sample !== 'object') throw new Error(`sample ${i} is not an object`);
  const { name, value, tags } = sample as { name?: unknown; value?: unknown; tags?: unknown };
  if (typeof name !== 'string') throw new Error(`sample ${i} has no name`);
  if (typeof value !== 'number') throw new Error(`sample ${i} (${name}): value must be a number`);
  if (tags !== undefined && (tags === null || typeof tags !== 'object' || Array.isArray(tags)))
    throw new Error(`sample ${i} (${name}): tags must be an object of strings`);
  for (const tag of Object.values((tags ?? {}) as Record<string, unknown>))
    if (typeof tag !== 'string') throw new Error(`sample ${i} (${name}): tags must be an object of strings`);
  return { name, value, labels: (tags ?? {}) as Record<string, string> };
}
