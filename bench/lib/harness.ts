import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

/** One measured quantity of a scenario, with every sample taken (one per run or per window). */
export interface Figure {
  name: string;
  unit: string;
  samples: number[];
  /** Name of another figure of the same scenario this one is compared with (ratio = median / baseline median). */
  baseline?: string;
  /** What limits this number or how it was taken, shown under the table. */
  note?: string;
}

export interface FigureSummary {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  n: number;
  samples: number[];
  baseline?: string;
  ratio?: number;
  note?: string;
}

/** What a scenario gets: a place to record figures and a logger that stays out of the table. */
export class BenchContext {
  private readonly figures = new Map<string, Figure>();
  readonly notes: string[] = [];

  constructor(
    readonly scenario: string,
    readonly runs: number,
  ) {}

  /** Adds one sample to a figure (creating it on first use). */
  record(
    name: string,
    unit: string,
    value: number,
    options: { baseline?: string; note?: string } = {},
  ): void {
    if (!Number.isFinite(value))
      throw new Error(`${this.scenario}: figure ${name} got a non-finite value ${value}`);
    const figure = this.figures.get(name) ?? { name, unit, samples: [] };
    figure.samples.push(value);
    if (options.baseline) figure.baseline = options.baseline;
    if (options.note) figure.note = options.note;
    this.figures.set(name, figure);
  }

  /** A free-text line for the JSON and the console (set-up facts: agent counts, payload sizes…). */
  note(text: string): void {
    this.notes.push(text);
    this.log(text);
  }

  log(text: string): void {
    process.stderr.write(`[${this.scenario}] ${text}\n`);
  }

  /** Runs `body` `runs` times (or `times`); each run records its own samples. */
  async repeat(body: (run: number) => Promise<void>, times = this.runs): Promise<void> {
    for (let run = 1; run <= times; run++) {
      this.log(`run ${run}/${times}`);
      await body(run);
    }
  }

  summaries(): FigureSummary[] {
    const medians = new Map<string, number>();
    const out = [...this.figures.values()].map((f) => {
      const sorted = [...f.samples].sort((a, b) => a - b);
      const summary: FigureSummary = {
        name: f.name,
        unit: f.unit,
        median: median(sorted),
        min: sorted[0],
        max: sorted[sorted.length - 1],
        n: sorted.length,
        samples: f.samples,
        baseline: f.baseline,
        note: f.note,
      };
      medians.set(f.name, summary.median);
      return summary;
    });
    for (const s of out) {
      const base = s.baseline ? medians.get(s.baseline) : undefined;
      if (base) s.ratio = s.median / base;
    }
    return out;
  }
}

export interface Scenario {
  /** Command-line name: `npm run bench -- <name>`. */
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<void>;
}

/** Median of an ascending array (mean of the two middle values for even lengths). */
export function median(sorted: number[]): number {
  if (!sorted.length) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The q-quantile (0..1) of an ascending array, nearest-rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function machine() {
  let natsServer = 'unknown';
  try {
    natsServer = execFileSync('nats-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    natsServer = 'not on PATH';
  }
  return {
    cpus: cpus().length,
    /** 1, 5 and 15 minute load averages when the scenario ended: anything else running skews the figures. */
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    natsServer,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Prints one row per figure: median, min, max, n, ratio against its baseline. */
export function printTable(title: string, rows: FigureSummary[]): void {
  const header = ['figure', 'median', 'min', 'max', 'unit', 'n', 'vs baseline'];
  const body = rows.map((r) => [
    r.name,
    formatNumber(r.median),
    formatNumber(r.min),
    formatNumber(r.max),
    r.unit,
    String(r.n),
    r.ratio !== undefined ? `${r.ratio.toFixed(2)}× ${r.baseline}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i >= 1 && i <= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  process.stdout.write(`\n## ${title}\n\n`);
  process.stdout.write(`${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of body) process.stdout.write(`${line(row)}\n`);
  // A note shared by several figures (one per fleet size, per engine…) is printed once.
  const byNote = new Map<string, string[]>();
  for (const r of rows) if (r.note) byNote.set(r.note, [...(byNote.get(r.note) ?? []), r.name]);
  for (const [note, names] of byNote) process.stdout.write(`  - ${names.join('; ')}: ${note}\n`);
  process.stdout.write('\n');
}

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Runs one scenario, prints its table and writes `bench/results/<scenario>-<timestamp>.json`. */
export async function runScenario(scenario: Scenario, runs: number): Promise<string> {
  const ctx = new BenchContext(scenario.name, runs);
  const startedAt = new Date();
  const startLoad = loadavg()[0];
  await scenario.run(ctx);
  const figures = ctx.summaries();
  const endLoad = loadavg()[0];
  printTable(scenario.title, figures);
  process.stdout.write(
    `  load average (1 min) at start ${startLoad.toFixed(2)}, at end ${endLoad.toFixed(2)} on ${cpus().length} cores\n`,
  );
  for (const n of ctx.notes) process.stdout.write(`  * ${n}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const file = join(RESULTS_DIR, `${scenario.name}-${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        scenario: scenario.name,
        title: scenario.title,
        startedAt: startedAt.toISOString(),
        durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
        runs,
        loadAverageAtStart: startLoad,
        machine: machine(),
        figures,
        notes: ctx.notes,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`  results: ${file}\n`);
  return file;
}
