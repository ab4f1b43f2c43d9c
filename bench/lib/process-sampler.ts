import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ) — the unit of utime/stime in /proc/<pid>/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      // getconf missing: 100 is USER_HZ on every mainstream Linux build.
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: parse from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export interface ProcessSample {
  /** ms since the sampler started */
  t: number;
  /** CPU % over the interval since the previous sample; 100 = one full core. */
  cpuPercent: number;
  rssBytes: number;
}

export interface ProcessUsage {
  /** CPU % over the whole window (CPU seconds used / wall seconds); 100 = one core. */
  cpuPercent: number;
  cpuPercentMax: number;
  rssMaxBytes: number;
  rssLastBytes: number;
  samples: ProcessSample[];
}

/**
 * Samples one process's CPU and RSS from /proc every `intervalMs` until stopped. Reading
 * /proc costs microseconds, so the sampler does not disturb what it measures.
 */
export class ProcessSampler {
  private readonly samples: ProcessSample[] = [];
  private timer?: NodeJS.Timeout;
  private startedAt = 0;
  private startCpu = 0;
  private lastCpu = 0;
  private lastAt = 0;

  constructor(
    readonly pid: number,
    private readonly intervalMs = 1000,
  ) {}

  start(): this {
    this.startedAt = this.lastAt = performance.now();
    this.startCpu = this.lastCpu = cpuSeconds(this.pid);
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  private sample(): void {
    try {
      const now = performance.now();
      const cpu = cpuSeconds(this.pid);
      const wall = (now - this.lastAt) / 1000;
      this.samples.push({
        t: now - this.startedAt,
        cpuPercent: wall > 0 ? ((cpu - this.lastCpu) / wall) * 100 : 0,
        rssBytes: rssBytes(this.pid),
      });
      this.lastCpu = cpu;
      this.lastAt = now;
    } catch (error) {
      // The process exited: keep what we have, stop sampling.
      this.stopTimer();
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops sampling and summarises the window since start(). */
  stop(): ProcessUsage {
    this.stopTimer();
    this.sample();
    const wall = (performance.now() - this.startedAt) / 1000;
    const rss = this.samples.map((s) => s.rssBytes);
    return {
      cpuPercent: wall > 0 ? ((this.lastCpu - this.startCpu) / wall) * 100 : 0,
      cpuPercentMax: Math.max(0, ...this.samples.map((s) => s.cpuPercent)),
      rssMaxBytes: Math.max(0, ...rss),
      rssLastBytes: rss[rss.length - 1] ?? 0,
      samples: this.samples,
    };
  }
}

export const MiB = 1024 * 1024;
