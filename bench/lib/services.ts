import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { NatsConnection, JSONCodec, NatsError, ErrorCode } from 'nats';
import { randomUUID } from 'node:crypto';
import { Engine } from '@app/persistence';
import { createTestDatabase, TestDatabase, waitFor } from '@app/testing';

export const REPO_ROOT = join(__dirname, '..', '..');

export type ServiceName = 'gateway' | 'tokens' | 'provisioning' | 'ingestion' | 'agent';

export function serviceEntry(service: ServiceName): string {
  return join(REPO_ROOT, 'dist', 'apps', service, 'src', 'main.js');
}

/** True when `npm run build` produced the service's entry point. */
export function isBuilt(service: ServiceName): boolean {
  return existsSync(serviceEntry(service));
}

export interface ServiceProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last 64 KiB of the process's stdout+stderr, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 64 * 1024;

/** Variables a parent shell may hold that must not leak into a benchmarked service. */
const ISOLATED = ['DATABASE_URL', 'DATA_DIR', 'NATS_URL', 'PORT', 'HOST'];

/**
 * Starts a built service (`node dist/apps/<svc>/src/main.js`) with `env` on top of this
 * process's environment, minus the variables that pick a database, a NATS or a port.
 */
export function startService(
  service: ServiceName,
  env: Record<string, string | undefined>,
  options: { name?: string; args?: string[]; script?: string } = {},
): ServiceProcess {
  const script = options.script ?? serviceEntry(service);
  if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build`);
  return spawnNode(options.name ?? service, [script, ...(options.args ?? [])], env);
}

/** Starts `node -r @swc-node/register <file.ts>` — for bench-only servers such as the bare HTTP baseline. */
export function startTsProcess(
  name: string,
  file: string,
  env: Record<string, string | undefined>,
): ServiceProcess {
  return spawnNode(name, ['-r', '@swc-node/register', file], env);
}

function spawnNode(name: string, args: string[], env: Record<string, string | undefined>): ServiceProcess {
  const merged: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const key of ISOLATED) delete merged[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value;
  // BENCH_CPU_PROF=ingestion,tokens: those children write a V8 CPU profile to bench/results/ on exit.
  const profiled = (process.env.BENCH_CPU_PROF ?? '').split(',').includes(name);
  const argv = profiled
    ? [
        '--cpu-prof',
        '--cpu-prof-dir',
        join(REPO_ROOT, 'bench', 'results'),
        '--cpu-prof-name',
        `${name}-${Date.now()}.cpuprofile`,
        ...args,
      ]
    : args;
  const child = spawn(process.execPath, argv, {
    cwd: REPO_ROOT,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > OUTPUT_LIMIT) text = text.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    pid: child.pid,
    child,
    output: () => text,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Fails fast with the service's output when it exits while we wait for it. */
export async function waitUntilReady(
  service: ServiceProcess,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  try {
    await waitFor(
      `${service.name}: ${what}`,
      async () => {
        if (service.child.exitCode !== null) {
          throw new ExitedError(`${service.name} exited with ${service.child.exitCode}`);
        }
        return check();
      },
      timeoutMs,
      100,
    );
  } catch (error) {
    throw new Error(`${String(error)}\n--- ${service.name} output ---\n${service.output()}`);
  }
}

class ExitedError extends Error {}

const json = JSONCodec<unknown>();

/**
 * True once something answers `subject` (any reply, even an error: the handler is
 * subscribed). A "no responders" status means the service has not subscribed yet.
 */
export async function answers(nc: NatsConnection, subject: string, data: unknown = {}): Promise<boolean> {
  try {
    await nc.request(subject, json.encode({ pattern: subject, data, id: randomUUID() }), { timeout: 2000 });
    return true;
  } catch (error) {
    if (
      error instanceof NatsError &&
      (error.code === ErrorCode.NoResponders || error.code === ErrorCode.Timeout)
    ) {
      return false;
    }
    throw error;
  }
}

/** The status GET `url` answers with, or undefined when nothing answers. */
export function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

/** True once GET `url` answers 200. */
export async function httpOk(url: string): Promise<boolean> {
  return (await httpStatus(url)) === 200;
}

/**
 * A fresh database for the services of one run: a temp DATA_DIR for SQLite, a new
 * PostgreSQL database on TEST_DATABASE_URL for postgres. `env` goes to every service.
 */
export function freshDatabase(engine: Engine, name = 'bench'): Promise<TestDatabase> {
  return createTestDatabase(engine, name);
}

/** Stops every process in reverse start order; never throws (a failing stop must not hide the real error). */
export async function stopAll(processes: ServiceProcess[]): Promise<void> {
  for (const p of [...processes].reverse()) {
    await p.stop().catch((error: unknown) => process.stderr.write(`stopping ${p.name}: ${String(error)}\n`));
  }
}
