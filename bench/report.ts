import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FigureSummary, formatNumber, RESULTS_DIR } from './lib/harness';
import { SCENARIOS } from './scenarios';

/**
 * Prints the newest result of each scenario (bench/results/<scenario>-<time>.json) as
 * Markdown, for BENCHMARKS.md: the figures are pasted from the files, never retyped.
 *
 *   node -r @swc-node/register bench/report.ts [scenario…]
 */
interface ResultFile {
  scenario: string;
  title: string;
  startedAt: string;
  durationSeconds: number;
  runs: number;
  loadAverageAtStart?: number;
  machine: { cpus: number; memoryGiB: number; node: string; natsServer: string; loadAverage?: number[] };
  figures: FigureSummary[];
  notes: string[];
}

function newestResults(): Map<string, ResultFile> {
  const newest = new Map<string, ResultFile>();
  for (const file of readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    let data: ResultFile;
    try {
      data = JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as ResultFile;
    } catch {
      continue;
    }
    // Files written by standalone scripts have another shape; their wrapper's file is the one to show.
    if (!data.scenario || !Array.isArray(data.figures)) continue;
    const current = newest.get(data.scenario);
    if (!current || current.startedAt < data.startedAt) newest.set(data.scenario, data);
  }
  return newest;
}

function render(r: ResultFile): string {
  const lines = [
    `#### ${r.title}`,
    '',
    `\`${r.scenario}\`, ${r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}, ${Math.round(r.durationSeconds)} s, ` +
      `${r.machine.cpus} cores / ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.natsServer}; ` +
      `load average (1 min) ${r.loadAverageAtStart?.toFixed(1) ?? '?'} at start, ${r.machine.loadAverage?.[0]?.toFixed(1) ?? '?'} at end.`,
    '',
    '| figure | median | min | max | unit | n | vs baseline |',
    '|---|---:|---:|---:|---|---:|---|',
    ...r.figures.map(
      (f) =>
        `| ${f.name} | ${formatNumber(f.median)} | ${formatNumber(f.min)} | ${formatNumber(f.max)} | ${f.unit} | ${f.n} | ` +
        `${f.ratio !== undefined ? `${f.ratio.toFixed(2)}× ${f.baseline}` : ''} |`,
    ),
    '',
  ];
  const byNote = new Map<string, string[]>();
  for (const f of r.figures) if (f.note) byNote.set(f.note, [...(byNote.get(f.note) ?? []), f.name]);
  for (const [note, names] of byNote) lines.push(`- *${names.join('; ')}*: ${note}`);
  for (const n of r.notes) lines.push(`- ${n}`);
  lines.push('');
  return lines.join('\n');
}

const wanted = process.argv.slice(2);
const results = newestResults();
for (const { name } of SCENARIOS) {
  const result = results.get(name);
  if (result && (!wanted.length || wanted.includes(name))) process.stdout.write(`${render(result)}\n`);
}
