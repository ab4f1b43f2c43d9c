import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { BenchContext, Scenario } from './harness';
import { REPO_ROOT } from './services';

export interface ExternalScenarioOptions {
  name: string;
  title: string;
  /** A bench script with its own main(), run as `node -r @swc-node/register <file>`. */
  file: string;
  /** Turns the script's stdout into figures. */
  parse(stdout: string, ctx: BenchContext): void;
  timeoutMs: number;
}

/**
 * Wraps a self-contained bench script written before (or beside) this harness: runs it
 * once as a child process, streams its output, then records the figures it printed, so
 * `npm run bench` shows it in the same table and JSON format.
 */
export function externalScenario(options: ExternalScenarioOptions): Scenario {
  return {
    name: options.name,
    title: options.title,
    async run(ctx) {
      if (!existsSync(options.file)) throw new Error(`${options.file} does not exist yet`);
      ctx.note(`runs ${options.file.slice(REPO_ROOT.length + 1)} once (its own timing; n = 1)`);
      const stdout = await runScript(options.file, options.timeoutMs);
      options.parse(stdout, ctx);
    },
  };
}

function runScript(file: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', file], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${file} exited with ${code ?? signal}`));
    });
  });
}

/** The last top-level JSON object a script printed (pretty-printed: from a line that is `{` to the end). */
export function lastJsonObject(stdout: string): Record<string, unknown> {
  const start = stdout.lastIndexOf('\n{\n');
  const text = start >= 0 ? stdout.slice(start + 1) : stdout.trimStart().startsWith('{') ? stdout : '';
  if (!text) throw new Error('the script printed no JSON summary');
  return JSON.parse(text) as Record<string, unknown>;
}

/** The JSON file a script reported with a `wrote <path>` line (its own results file). */
export function writtenJson(stdout: string): Record<string, unknown> {
  const match = /^wrote (\S+\.json)\s*$/m.exec(stdout);
  if (!match) throw new Error('the script reported no "wrote <file>.json" line');
  return JSON.parse(readFileSync(match[1], 'utf8')) as Record<string, unknown>;
}

/** A number at `path` (dot-separated) of a script's JSON, or an error naming the path: their format may change. */
export function numberAt(data: unknown, path: string): number {
  let value: unknown = data;
  for (const key of path.split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (typeof value !== 'number') throw new Error(`expected a number at ${path} of the script's results`);
  return value;
}
