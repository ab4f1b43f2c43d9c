import { Engine } from '@app/persistence';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TempDirs,
  TestDatabase,
  waitFor,
} from '@app/testing';
import { EventLog, subscribeEvents } from './event-log';
import { agentCommandEnvironment, cleanEnv, ensureBuilt, RunningLauncher, startLauncher } from './launcher';
import { AgentProcess, Api, apiClient, startAgent } from './platform-api';

export interface PlatformOptions {
  /** Names the test database (a fresh PostgreSQL schema). */
  name: string;
  engine?: Engine;
  /** Per-service NATS users, as production runs; false for an open bus. Default true. */
  secured?: boolean;
  /** More launcher variables: heartbeat intervals, liveness, webhook CIDRs. */
  env?: Record<string, string>;
  /** Listen on `events.>` as an internal consumer would, from before the platform starts (secured only). */
  events?: boolean;
  /** How long `npm start` may take to print its banner. */
  bannerTimeoutMs?: number;
}

/** The platform as `npm start` runs it, on its own nats-server and database, with what a suite needs to drive it. */
export interface TestPlatform {
  nats: NatsServerHandle;
  database: TestDatabase;
  launcher: RunningLauncher;
  /** The gateway on 127.0.0.1 (the banner says localhost, which may resolve to ::1 first). */
  baseUrl: string;
  /** The gateway with the bootstrap API key. */
  api: Api;
  /** Present when started with `events: true`. */
  events?: EventLog;
  /** The variables of the banner's agent command: a server agent enrolling in `dev`. */
  agentEnv: Record<string, string>;
  /** Temporary directories removed by stop(). */
  dirs: TempDirs;
  /** An enrollment token for a new agent of `agentType` in `environment`. */
  provision(agentType: string, environment: string): Promise<string>;
  /**
   * An agent process with the banner's variables, a fresh state directory and `env` on top (set
   * RCA_STATE_DIR to restart one with its identity); stop() kills it.
   */
  startAgent(env?: Record<string, string>): AgentProcess;
  /** Kills the agents it started, stops the platform, the bus and the database, removes the directories. */
  stop(): Promise<void>;
}

/** Builds if needed, starts nats-server and a database, then `npm start` against them. */
export async function startPlatform(options: PlatformOptions): Promise<TestPlatform> {
  const { name, engine = 'sqlite', secured = true, env = {}, events = false, bannerTimeoutMs } = options;
  const dirs = new TempDirs();
  const agents: AgentProcess[] = [];
  let nats: NatsServerHandle | undefined;
  let database: TestDatabase | undefined;
  let eventLog: EventLog | undefined;
  let launcher: RunningLauncher | undefined;
  const stop = async () => {
    for (const agent of agents) agent.kill('SIGKILL');
    await eventLog?.close();
    await launcher?.stop();
    await nats?.dispose();
    await database?.cleanup();
    dirs.removeAll();
  };

  try {
    ensureBuilt();
    nats = await startNatsServer({ secured });
    database = await createTestDatabase(engine, name);
    if (events) eventLog = await subscribeEvents(nats);
    launcher = await startLauncher(
      cleanEnv({
        NATS_URL: nats.url,
        NATS_AUTH_DIR: nats.bus?.authority.dir,
        DATA_DIR: database.env.DATA_DIR,
        DATABASE_URL: database.env.DATABASE_URL,
        PORT: '0',
        ...env,
      }),
      bannerTimeoutMs,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const baseUrl = launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:');
  const api = apiClient(baseUrl, launcher.banner.apiKey);
  const agentEnv = agentCommandEnvironment(launcher.banner.agentCommand!);
  return {
    nats,
    database,
    launcher,
    baseUrl,
    api,
    events: eventLog,
    agentEnv,
    dirs,
    provision: async (agentType, environment) => {
      const provisioned = await api<{ enrollment_token: string }>('POST', '/api/v1/agent/provision', {
        agent_type: agentType,
        environment_name: environment,
      });
      if (provisioned.status !== 201)
        throw new Error(`provision ${agentType}: ${provisioned.status} ${JSON.stringify(provisioned.body)}`);
      return provisioned.body.enrollment_token;
    },
    startAgent: (extra = {}) => {
      const stateDir = extra.RCA_STATE_DIR ?? dirs.make('rca-e2e-agent-');
      const agent = startAgent(cleanEnv({ ...agentEnv, ...extra, RCA_STATE_DIR: stateDir }));
      agents.push(agent);
      return agent;
    },
    stop,
  };
}

/**
 * For `.catch()` on a wait: fails with the error and the last lines of each named output (an agent's
 * log, `npm start`'s), which say why what was awaited never came.
 */
export function failWithOutputs(
  outputs: Record<string, () => string | undefined>,
  tail = 3000,
): (error: unknown) => never {
  return (error) => {
    const logs = Object.entries(outputs).map(
      ([what, output]) => `\n--- ${what} ---\n${(output() ?? '').slice(-tail)}`,
    );
    throw new Error(`${(error as Error).message}${logs.join('')}`);
  };
}

interface ListedAgent {
  id: string;
  status: string;
}

/**
 * Polls `GET /api/v1/agents?<query>` until `pick` finds what the test waits for among the listed agents;
 * with `agent`, a process that has exited is named in the failure.
 */
export function waitForListed<A extends ListedAgent, T>(
  api: Api,
  what: string,
  pick: (agents: A[]) => T | undefined | null | false,
  options: { query?: string; agent?: AgentProcess; timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { query = '', agent, timeoutMs = 30_000, intervalMs = 200 } = options;
  return waitFor(
    what,
    async () => {
      if (agent && agent.exitCode() !== undefined) throw new Error(`agent exited with ${agent.exitCode()}`);
      const page = await api<{ items?: A[] }>('GET', `/api/v1/agents${query ? `?${query}` : ''}`);
      return page.body.items ? pick(page.body.items) : undefined;
    },
    timeoutMs,
    intervalMs,
  );
}

/** Polls `GET /api/v1/agents/:id/metrics` until one series of `name` (matching `tag`, if given) has points. */
export function waitForSeries<S extends { points: unknown[] }>(
  api: Api,
  agentId: string,
  name: string,
  options: { from: number; tag?: string; timeoutMs?: number; intervalMs?: number },
): Promise<S> {
  const { from, tag, timeoutMs = 20_000, intervalMs = 250 } = options;
  return waitFor(
    `${name} of agent ${agentId}`,
    async () => {
      const result = await api<{ series?: S[] }>(
        'GET',
        `/api/v1/agents/${agentId}/metrics?name=${name}&from=${from}&to=${Date.now() + 1000}&step=1${tag ? `&tag=${encodeURIComponent(tag)}` : ''}`,
      );
      return result.body.series?.find((s) => s.points.length > 0);
    },
    timeoutMs,
    intervalMs,
  );
}
