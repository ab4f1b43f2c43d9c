import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const AGENT_DIR = join(REPO_ROOT, 'dist', 'agent');

export type AgentBuildKind = 'binary' | 'bundle';

/** A command line that runs the agent: `command ...args [agent options]`. */
export interface AgentCommand {
  kind: AgentBuildKind;
  command: string;
  args: string[];
}

let built = false;

/** `npm run build:agent` once per process: a no-op when dist/agent matches its inputs' hash. */
export function ensureAgentBuilt(): void {
  if (built) return;
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-agent.js')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`npm run build:agent failed:\n${result.stderr}`);
  built = true;
}

/** True where build:agent makes a self-contained executable (Linux x64). */
export const agentBinaryBuilt = process.platform === 'linux' && process.arch === 'x64';

/**
 * The one place tests and benches decide how to start an agent: as customers run it, the Linux x64
 * executable where one is built, else the bundle on this Node. `kind` forces one of the two.
 */
export function agentCommand(kind: AgentBuildKind = agentBinaryBuilt ? 'binary' : 'bundle'): AgentCommand {
  ensureAgentBuilt();
  if (kind === 'binary') {
    if (!agentBinaryBuilt)
      throw new Error(`no agent executable is built for ${process.platform}-${process.arch}`);
    return { kind, command: join(AGENT_DIR, 'rca-agent-linux-x64'), args: [] };
  }
  return { kind, command: process.execPath, args: [join(AGENT_DIR, 'bundle', 'main.js')] };
}
