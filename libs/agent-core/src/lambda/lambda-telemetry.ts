import { MetricSample } from '@app/contracts';

/**
 * The Telemetry API's platform events the agent reads (schema version 2022-12-13,
 * https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html). Every field is
 * checked before use: a batch is untrusted JSON and one odd event must not cost the others.
 */
export interface TelemetryEvent {
  time?: string;
  type?: string;
  record?: unknown;
}

const MIB = 1024 * 1024;
const INVOCATION_FAILED = new Set(['error', 'failure']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const numberAt = (record: Record<string, unknown>, key: string): number | undefined => {
  const metrics = record.metrics;
  const value = isObject(metrics) ? metrics[key] : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
};

interface InitReport {
  durationMs: number;
  initType: string;
  failed: boolean;
}

/**
 * Sums the platform events of one execution environment between two collections: platform.report
 * (one per invocation, with its status and metrics) and platform.initReport (one per init phase).
 * The maths is here, the HTTP listener only feeds it; drain() starts the next interval.
 */
export class LambdaTelemetryAggregator {
  private tags: Record<string, string> = {};
  private invocations = 0;
  private errors = 0;
  private timeouts = 0;
  private durations: number[] = [];
  private billed = 0;
  private maxMemoryUsed?: number;
  private memorySize?: number;
  private inits: InitReport[] = [];
  /** Events that were not of the documented shape, counted for the log. */
  ignored = 0;

  /** The function as the Extensions API named it at registration. */
  identify(functionName: string, functionVersion: string): void {
    this.tags = { function_name: functionName, function_version: functionVersion };
  }

  record(events: unknown): void {
    if (!Array.isArray(events)) {
      this.ignored++;
      return;
    }
    for (const event of events) {
      if (!isObject(event) || !isObject(event.record)) {
        this.ignored++;
        continue;
      }
      if (event.type === 'platform.report') this.report(event.record);
      else if (event.type === 'platform.initReport') this.initReport(event.record);
    }
  }

  private report(record: Record<string, unknown>): void {
    const duration = numberAt(record, 'durationMs');
    if (duration === undefined) {
      this.ignored++;
      return;
    }
    this.invocations++;
    if (INVOCATION_FAILED.has(String(record.status))) this.errors++;
    if (record.status === 'timeout') this.timeouts++;
    this.durations.push(duration);
    this.billed += numberAt(record, 'billedDurationMs') ?? 0;
    const used = numberAt(record, 'maxMemoryUsedMB');
    if (used !== undefined) this.maxMemoryUsed = Math.max(this.maxMemoryUsed ?? 0, used * MIB);
    const size = numberAt(record, 'memorySizeMB');
    if (size !== undefined) this.memorySize = size * MIB;
  }

  private initReport(record: Record<string, unknown>): void {
    const durationMs = numberAt(record, 'durationMs');
    if (durationMs === undefined) {
      this.ignored++;
      return;
    }
    const status = record.status;
    this.inits.push({
      durationMs,
      initType: typeof record.initializationType === 'string' ? record.initializationType : 'unknown',
      // Absent in some runtimes' reports: an init that reported no status is not counted as failed.
      failed: typeof status === 'string' && status !== 'success',
    });
  }

  /** The interval's samples; counts are 0 when nothing ended, the rest absent when nothing was measured. */
  drain(): MetricSample[] {
    const tags = this.tags;
    const sample = (name: string, value: number, unit: string, extra = {}): MetricSample => ({
      name,
      value,
      unit,
      tags: { ...tags, ...extra },
    });
    const samples = [
      sample('lambda.invocations', this.invocations, '1'),
      sample('lambda.errors', this.errors, '1'),
      sample('lambda.timeouts', this.timeouts, '1'),
    ];
    if (this.durations.length) {
      const total = this.durations.reduce((sum, d) => sum + d, 0);
      samples.push(
        sample('lambda.duration.avg', total / this.durations.length, 'ms'),
        sample('lambda.duration.max', Math.max(...this.durations), 'ms'),
        sample('lambda.billed_duration', this.billed, 'ms'),
      );
    }
    if (this.maxMemoryUsed !== undefined)
      samples.push(sample('lambda.memory.max_used', this.maxMemoryUsed, 'By'));
    if (this.memorySize !== undefined && this.durations.length)
      samples.push(sample('lambda.memory.size', this.memorySize, 'By'));
    const lastInit = this.inits.at(-1);
    if (lastInit) {
      samples.push(
        sample('lambda.init.duration', lastInit.durationMs, 'ms', { init_type: lastInit.initType }),
        sample('lambda.init.errors', this.inits.filter((i) => i.failed).length, '1'),
      );
    }
    this.invocations = this.errors = this.timeouts = this.billed = 0;
    this.durations = [];
    this.maxMemoryUsed = undefined;
    this.inits = [];
    return samples;
  }
}
