import { ChildProcess, spawn } from 'node:child_process';
import { MetricSample, SourceHealth } from '@app/contracts';
import { Collector } from '../agent-type';
import { AppSampleShaper } from './app-sample-shaper';
import { ExecPluginConfig } from './exec-config';
import { parseExposition } from './exposition-parser';
import { PluginRun, PluginSchedule } from './interval-gate';
import { parseLineProtocol } from './line-protocol-parser';
import { runHealth } from './source-health';

/** The runner's backstop beyond what a collection waits for a run, so the plugin reports its own error. */
const RUNNER_GRACE_MS = 1000;
/** stderr kept for the error message of a failed run. */
const STDERR_TAIL = 300;

/**
 * An `exec` plugin as a collector named `exec:<name>`: runs its command (argv, no shell unless asked)
 * as the agent's own user when its interval is due, reads metrics from stdout (line protocol or
 * OpenMetrics text), bounded by its timeout (the whole process group is killed) and max_bytes. A
 * failed run (timeout, non-zero exit, oversized or malformed output) is this collector's error in the
 * heartbeat; `exec.up` and `exec.duration` are stored either way. Runs beside the collection loop
 * (PluginSchedule): a slow command's samples come with a later collection.
 */
export class ExecCollector implements Collector {
  readonly name: string;
  readonly timeoutMs: number;
  private readonly schedule: PluginSchedule;
  private last?: SourceHealth;

  constructor(
    private readonly plugin: ExecPluginConfig,
    defaultIntervalSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.name = `exec:${plugin.name}`;
    this.schedule = new PluginSchedule(
      (plugin.interval ?? defaultIntervalSeconds) * 1000,
      plugin.timeout * 1000,
      defaultIntervalSeconds,
    );
    this.timeoutMs = this.schedule.waitMs + RUNNER_GRACE_MS;
  }

  collect(): Promise<MetricSample[]> {
    return this.schedule.collect(this.clock(), () => this.runOnce());
  }

  health(): SourceHealth[] {
    return this.last ? [this.last] : [];
  }

  private async runOnce(): Promise<PluginRun> {
    const startedAt = this.clock();
    const baseTags = { source: 'exec', plugin: this.plugin.name };
    const shaper = new AppSampleShaper({
      baseTags: { ...baseTags, ...this.plugin.labels },
      allow: this.plugin.allow,
      deny: this.plugin.deny,
      maxSeries: this.plugin.max_series,
    });
    const health = (up: number): MetricSample[] => [
      { name: 'exec.up', value: up, unit: '1', tags: baseTags },
      { name: 'exec.duration', value: (this.clock() - startedAt) / 1000, unit: 's', tags: baseTags },
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
      const output = await this.run();
      const parse = this.plugin.format === 'openmetrics' ? parseExposition : parseLineProtocol;
      parse(output, (sample) => shaper.add(sample));
    } catch (error) {
      return done(
        { samples: health(0), error: error instanceof Error ? error.message : String(error) },
        true,
      );
    }
    return done({ samples: [...shaper.samples, ...health(1)], error: shaper.skippedSummary() }, false);
  }

  /** stdout of a run that exited 0 within the timeout and the byte cap. */
  private run(): Promise<string> {
    const { command, shell, timeout, max_bytes: maxBytes } = this.plugin;
    return new Promise((resolve, reject) => {
      // detached: its own process group, so a timeout kills what the command started too (a shell's children).
      const child = shell
        ? spawn(command[0], { shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(command[0], command.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      let size = 0;
      let stderr = '';
      let settled = false;
      const finish = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          killGroup(child);
          reject(error);
        } else resolve(Buffer.concat(stdout).toString('utf8'));
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${timeout * 1000} ms; killed`)),
        timeout * 1000,
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes)
          return finish(new Error(`output exceeds the limit of ${maxBytes} bytes; killed`));
        stdout.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL)));
      child.on('error', (error) => finish(new Error(`cannot run ${command[0]}: ${error.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) return finish(undefined);
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        const detail = stderr.trim() ? `: ${stderr.trim()}` : '';
        finish(new Error(`${command[0]} ${how}${detail}`));
      });
    });
  }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}
