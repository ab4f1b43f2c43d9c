import { ChildProcess, spawn } from 'node:child_process';
import { agentCommand } from '@app/testing';
import { REPO_ROOT } from './launcher';

/** A JSON answer from the gateway. */
export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** Calls the gateway the way curl in the README does: Bearer API key, JSON in and out. */
export function apiClient(baseUrl: string, apiKey?: string) {
  return async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiResponse<T>> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // not JSON: keep the text for the failure message
    }
    return { status: response.status, body: parsed as T };
  };
}

export type Api = ReturnType<typeof apiClient>;

/** A running agent as customers run it (libs/testing's agentCommand: the Linux x64 executable, else the bundle). */
export interface AgentProcess {
  pid: number;
  output(): string;
  exited(): Promise<number | null>;
  exitCode(): number | null | undefined;
  kill(signal: NodeJS.Signals): void;
}

export function startAgent(env: NodeJS.ProcessEnv): AgentProcess {
  const { command, args } = agentCommand();
  const child: ChildProcess = spawn(command, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  let code: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      resolve(c);
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

/** `npm run admin -- <args>`: the operator CLI; returns its exit code and output. */
export function runAdmin(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'admin', '--', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}
