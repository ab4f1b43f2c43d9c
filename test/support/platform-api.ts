import { agentCommand } from '@app/testing';
import { LoggedProcess, runLogged, spawnLogged } from './logged-process';

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
export type AgentProcess = LoggedProcess;

export function startAgent(env: NodeJS.ProcessEnv): AgentProcess {
  const { command, args } = agentCommand();
  return spawnLogged(command, args, env);
}

/** `npm run admin -- <args>`: the operator CLI; returns its exit code and output. */
export function runAdmin(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return runLogged('npm', ['run', '--silent', 'admin', '--', ...args], env);
}
