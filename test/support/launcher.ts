import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { REPO_ROOT, runLogged, spawnLogged } from './logged-process';

export { REPO_ROOT };

const START_SCRIPT = join(REPO_ROOT, 'scripts', 'start.js');

/** Time a fresh build may take (tsc + dashboard bundle on 2 cores), so suites give beforeAll this much. */
export const BUILD_TIMEOUT_MS = 300_000;

/**
 * Builds once per suite, before any timed step: the launcher would do it too (scripts/ensure-built.js),
 * but inside a test's timeout a first build would count against start-up time.
 */
export function ensureBuilt(): void {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-built.js')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the build failed:\n${result.stdout}\n${result.stderr}`);
}

/** What `npm start` printed once the platform was up. */
export interface StartBanner {
  /** The gateway base URL the banner names (http://localhost:<port>). */
  baseUrl: string;
  natsUrl: string;
  /** The bootstrap API key, when this start created it. */
  apiKey?: string;
  /** The ready-to-paste local agent command, when the launcher could provision one. */
  agentCommand?: string;
}

export interface RunningLauncher {
  banner: StartBanner;
  pid: number;
  output(): string;
  /** SIGTERM (what Ctrl-C / a service manager sends); resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited(): Promise<number | null>;
}

/**
 * The environment a launcher child gets: this process's PATH/HOME (so `node`, `npm` and
 * `nats-server` are found) plus the test's variables — nothing else leaks in from the CI shell.
 */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
  };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

/** Reads the banner `scripts/start.js` prints once everything answers. */
export function parseBanner(text: string): StartBanner | undefined {
  if (!text.includes('Press Ctrl-C to stop.')) return undefined;
  const api = /^ API:\s+(\S+)\/api\/v1\b/m.exec(text);
  const nats = /^ NATS:\s+(\S+)/m.exec(text);
  if (!api || !nats) return undefined;
  const key = /^ API key:\s+(rca_ak_\S+)/m.exec(text);
  const command = /^\s+(RCA_TOKEN=\S+ .*npm run agent)\s*$/m.exec(text);
  return {
    baseUrl: api[1],
    natsUrl: nats[1],
    apiKey: key?.[1],
    agentCommand: command && !command[1].includes('<enrollment_token>') ? command[1] : undefined,
  };
}

/**
 * The environment variables a printed `VAR=value … npm run agent` line sets, parsed the way a
 * POSIX shell would; throws when the line is anything else.
 */
export function agentCommandEnvironment(command: string): Record<string, string> {
  const words = parse(command);
  const env: Record<string, string> = {};
  let index = 0;
  for (; index < words.length; index++) {
    const word = words[index];
    if (typeof word !== 'string') throw new Error(`unexpected shell operator in "${command}"`);
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(word);
    if (!assignment) break;
    env[assignment[1]] = assignment[2];
  }
  const rest = words.slice(index);
  if (rest.join(' ') !== 'npm run agent') throw new Error(`expected "… npm run agent", got "${command}"`);
  return env;
}

/** Runs `node scripts/start.js` (what `npm start` runs) and waits for its banner. */
export async function startLauncher(env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<RunningLauncher> {
  const launcher = spawnLogged(process.execPath, [START_SCRIPT], env);

  // Not waitFor(): an early exit must fail at once, not after the whole timeout.
  const deadline = Date.now() + timeoutMs;
  let banner = parseBanner(launcher.output());
  while (!banner) {
    const exitCode = launcher.exitCode();
    if (exitCode !== undefined || Date.now() > deadline) {
      const why =
        exitCode !== undefined ? `npm start exited with ${exitCode}` : `no banner after ${timeoutMs} ms`;
      launcher.kill('SIGTERM');
      await launcher.exited();
      throw new Error(`${why}\n--- npm start output ---\n${launcher.output().slice(-8000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    banner = parseBanner(launcher.output());
  }

  return {
    banner,
    pid: launcher.pid,
    output: launcher.output,
    exited: launcher.exited,
    stop: async (signal = 'SIGTERM') => {
      launcher.kill(signal);
      return launcher.exited();
    },
  };
}

/** Runs `node scripts/start.js` expecting it to give up on its own; returns exit code and output. */
export function runLauncherToExit(
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  return runLogged(process.execPath, [START_SCRIPT], env, { ms: timeoutMs, what: 'npm start' });
}
