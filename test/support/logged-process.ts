import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root: where `npm start`, the agent and the admin CLI run from. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** A process started from the repository root whose stdout and stderr are kept, interleaved as they came. */
export interface LoggedProcess {
  pid: number;
  output(): string;
  exited(): Promise<number | null>;
  /** undefined while it runs. */
  exitCode(): number | null | undefined;
  /** Sends `signal`, unless it has already exited. */
  kill(signal: NodeJS.Signals): void;
}

export function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv): LoggedProcess {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  let code: number | null | undefined;
  const exit = new Promise<number | null>((resolveExit) =>
    child.once('exit', (c) => {
      code = c;
      resolveExit(c);
    }),
  );
  return {
    pid: child.pid ?? -1,
    output: () => text,
    exited: () => exit,
    exitCode: () => code,
    kill: (signal) => {
      if (code === undefined) child.kill(signal);
    },
  };
}

/**
 * Runs a command to its exit and returns its code and output; with `timeout`, one still running then is
 * killed and named in the error.
 */
export async function runLogged(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeout?: { ms: number; what: string },
): Promise<{ code: number | null; output: string }> {
  const child = spawnLogged(command, args, env);
  if (!timeout) return { code: await child.exited(), output: child.output() };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${timeout.what} was still running after ${timeout.ms} ms:\n${child.output().slice(-4000)}`,
        ),
      );
    }, timeout.ms);
  });
  try {
    return { code: await Promise.race([child.exited(), late]), output: child.output() };
  } finally {
    clearTimeout(timer);
  }
}
