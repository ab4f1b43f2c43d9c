import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentExitCodes } from '@app/agent-core';
import { EventKinds } from '@app/contracts';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
import { EventLog, subscribeEvents } from './support/event-log';
import {
  agentCommandEnvironment,
  BUILD_TIMEOUT_MS,
  cleanEnv,
  ensureBuilt,
  RunningLauncher,
  startLauncher,
} from './support/launcher';
import { AgentProcess, Api, apiClient, runAdmin, startAgent } from './support/platform-api';

/**
 * The mission end to end: the platform started by `npm start` (scripts/start.js) exactly as a
 * user starts it, driven only over HTTP, with a real agent process and an independent NATS
 * subscriber. Runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.
 */

/** Heartbeats every second and offline after 3 missed ones: the default 3 × 10 s, scaled down. */
const HEARTBEAT_SECONDS = 1;
const MISSED_HEARTBEATS = 3;
const OFFLINE_THRESHOLD_MS = HEARTBEAT_SECONDS * MISSED_HEARTBEATS * 1000;
/** Heartbeat jitter, the liveness sweep period and the HTTP polling: what "within the threshold" allows on top. */
const OFFLINE_SLACK_MS = 3000;
const LIVENESS_ENV = {
  HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  LIVENESS_MISSED_HEARTBEATS: String(MISSED_HEARTBEATS),
  LAST_SEEN_FLUSH_SECONDS: '0.25',
};
/** Always in a Server agent's first batch (docs/agent.md). */
const METRIC = 'system.memory.total';

/** The agent's exit code, or a description when it is still running after `ms`. */
function exitWithin(agent: AgentProcess, ms: number): Promise<number | null | string> {
  return Promise.race([
    agent.exited(),
    new Promise<string>((r) => setTimeout(() => r(`still running after ${ms} ms`), ms).unref()),
  ]);
}

interface AgentJson {
  id: string;
  status: string;
  type: string;
  environment: string;
}
interface Page<T> {
  items: T[];
  total: number;
}

describe.each(testEngines())('the platform started with npm start (%s)', (engine) => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let events: EventLog;
  let launcher: RunningLauncher;
  let api: Api;
  let apiKey: string;
  let agentEnv: Record<string, string>;
  let stateDir: string;
  let agent: AgentProcess | undefined;
  let agentId: string;

  const platformEnv = () =>
    cleanEnv({
      // A NATS server of the operator's own, secured with the platform's keys (docs/configuration.md).
      NATS_URL: nats.url,
      NATS_AUTH_DIR: nats.bus!.authority.dir,
      DATA_DIR: database.env.DATA_DIR,
      DATABASE_URL: database.env.DATABASE_URL,
      PORT: '0',
      ...LIVENESS_ENV,
    });
  /** The printed command's variables; the test only adds a fast heartbeat and a private state dir. */
  const runAgent = () =>
    startAgent(
      cleanEnv({ ...agentEnv, RCA_HEARTBEAT_INTERVAL: String(HEARTBEAT_SECONDS), RCA_STATE_DIR: stateDir }),
    );
  const getAgent = async () => {
    const response = await api<AgentJson>('GET', `/api/v1/agents/${agentId}`);
    if (response.status !== 200)
      throw new Error(`GET agent: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const failWithLogs = (error: unknown): never => {
    throw new Error(
      `${(error as Error).message}\n--- agent ---\n${agent?.output().slice(-3000) ?? ''}\n--- npm start ---\n${launcher.output().slice(-5000)}`,
    );
  };

  beforeAll(async () => {
    ensureBuilt();
    nats = await startNatsServer({ secured: true });
    database = await createTestDatabase(engine, 'platform');
    stateDir = mkdtempSync(join(tmpdir(), 'rca-e2e-agent-'));
    events = await subscribeEvents(nats);
    launcher = await startLauncher(platformEnv());
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await launcher?.stop();
    await events?.close();
    await nats?.dispose();
    await database?.cleanup();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('prints the API URL, a bootstrap API key and a local agent command for its NATS server', () => {
    const { banner } = launcher;
    expect(banner.natsUrl).toBe(nats.url);
    expect(banner.apiKey).toMatch(/^rca_ak_[A-Za-z0-9]+$/);
    expect(banner.agentCommand).toBeDefined();
    apiKey = banner.apiKey!;
    // localhost may resolve to ::1 first; the gateway listens on IPv4.
    api = apiClient(banner.baseUrl.replace('//localhost:', '//127.0.0.1:'), apiKey);

    agentEnv = agentCommandEnvironment(banner.agentCommand!);
    expect(agentEnv).toEqual({
      RCA_TOKEN: expect.stringMatching(/^rca_et_[A-Za-z0-9]+$/),
      RCA_NATS_URL: nats.url,
      // Agents reach the platform over HTTPS and trust its CA by the pin.
      RCA_PLATFORM_URL: expect.stringMatching(/^https:\/\/localhost:\d+$/),
      RCA_CA_PIN: nats.bus!.authority.caPin(),
      RCA_AGENT_TYPE: 'server',
    });
  });

  it('an agent run with that command is online within seconds and its metrics are queryable', async () => {
    const started = Date.now();
    agent = runAgent();
    const online = await waitFor(
      'the agent to be listed online',
      async () => {
        if (agent?.exitCode() !== undefined) throw new Error(`agent exited with ${agent?.exitCode()}`);
        const page = await api<Page<AgentJson>>('GET', '/api/v1/agents?environment=dev');
        return page.body.items?.find((a) => a.status === 'online');
      },
      20_000,
      200,
    ).catch(failWithLogs);
    agentId = online.id;
    expect(online).toMatchObject({ type: 'server', environment: 'dev' });
    expect(events.of(EventKinds.agentRegistered, agentId)).toHaveLength(1);

    const types = await api<{ type: string; metrics: { name: string }[] }[]>('GET', '/api/v1/agent/types');
    expect(types.body.find((t) => t.type === 'server')?.metrics.map((m) => m.name)).toContain(METRIC);
    const series = await waitFor(
      `${METRIC} points from GET /api/v1/agents/:id/metrics`,
      async () => {
        const result = await api<{ series: { points: { max: number }[] }[] }>(
          'GET',
          `/api/v1/agents/${agentId}/metrics?name=${METRIC}&from=${started - 60_000}&to=${Date.now() + 1000}&step=1`,
        );
        return result.body.series?.find((s) => s.points.length > 0);
      },
      20_000,
      250,
    ).catch(failWithLogs);
    expect(series.points[0].max).toBeGreaterThan(0);

    // The fleet overview's ranking sees the same samples, and only this organisation's agents.
    const top = await api<{ by: string; agents: { agent_id: string; value: number; count: number }[] }>(
      'GET',
      `/api/v1/metrics/top?name=${METRIC}&by=max&limit=5`,
    );
    expect(top.status).toBe(200);
    expect(top.body.agents).toEqual([
      expect.objectContaining({ agent_id: agentId, value: expect.any(Number) }),
    ]);
    expect(top.body.agents[0].count).toBeGreaterThan(0);
    expect((await api('GET', `/api/v1/metrics/top?name=${METRIC}&limit=1000`)).status).toBe(400);
  });

  it('a killed agent is offline within the liveness threshold and exactly one agent.offline event says so', async () => {
    await waitFor('agent.online event', () => events.of(EventKinds.agentOnline, agentId).length > 0);
    const killedAt = Date.now();
    agent!.kill('SIGKILL');
    await agent!.exited();
    await waitFor('status offline', async () => (await getAgent()).status === 'offline', 20_000, 100).catch(
      failWithLogs,
    );
    expect(Date.now() - killedAt).toBeLessThan(OFFLINE_THRESHOLD_MS + OFFLINE_SLACK_MS);

    await waitFor('agent.offline event', () => events.of(EventKinds.agentOffline, agentId).length > 0);
    // Give a second transition (another instance, a repeated sweep) as long again to show up.
    await new Promise((r) => setTimeout(r, OFFLINE_THRESHOLD_MS));
    expect(events.of(EventKinds.agentOffline, agentId)).toHaveLength(1);
    expect(await events.stored(EventKinds.agentOffline, agentId)).toBe(1);
  });

  it('the agent restarted with its saved state is online again without enrolling twice', async () => {
    agent = runAgent();
    await waitFor(
      'status online again',
      async () => (await getAgent()).status === 'online',
      20_000,
      200,
    ).catch(failWithLogs);
    const page = await api<Page<AgentJson>>('GET', '/api/v1/agents');
    expect(page.body.items.map((a) => a.id)).toEqual([agentId]);
    expect(events.of(EventKinds.agentRegistered, agentId)).toHaveLength(1);
  });

  // `npm run admin` checks the build first: sources changed since the suite's build mean a rebuild in here.
  it(
    'a second organisation sees none of it',
    async () => {
      const statusBefore = (await getAgent()).status;
      const created = await runAdmin(['org', 'create', `e2e-other-${engine}`], platformEnv());
      expect(created.code).toBe(0);
      const otherKey = /rca_ak_[A-Za-z0-9]+/.exec(created.output)?.[0];
      expect(otherKey).toBeDefined();
      const other = apiClient(launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:'), otherKey);

      const list = await other<Page<AgentJson>>('GET', '/api/v1/agents');
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ items: [], total: 0 });
      expect((await other('GET', `/api/v1/agents/${agentId}`)).status).toBe(404);
      expect((await other('GET', `/api/v1/agents/${agentId}/metrics?name=${METRIC}`)).status).toBe(404);
      expect((await other('DELETE', `/api/v1/agents/${agentId}`)).status).toBe(404);
      const environments = await other<{ name: string }[]>('GET', '/api/v1/environments');
      expect(environments.status).toBe(200);
      expect(environments.body.map((e) => e.name)).not.toContain('dev');

      // The other organisation's DELETE changed nothing.
      expect((await getAgent()).status).toBe(statusBefore);
    },
    BUILD_TIMEOUT_MS,
  );

  it('bad inputs get a 400 naming the problem and change nothing', async () => {
    const snapshot = async () => ({
      agents: (await api<Page<AgentJson>>('GET', '/api/v1/agents')).body.total,
      environments: (await api<{ name: string }[]>('GET', '/api/v1/environments')).body
        .map((e) => e.name)
        .sort(),
      audit: (await api<Page<unknown>>('GET', '/api/v1/audit')).body.total,
    });
    const before = await snapshot();
    const eventsBefore = events.all().length;

    const provision = (body: unknown) =>
      api<{ code: string; message: string }>('POST', '/api/v1/agent/provision', body);
    const bad = [
      [
        await provision({ agent_type: 'no-such-type', environment_name: 'bad-inputs' }),
        /agent_type|no-such-type/,
      ],
      [await provision({ agent_type: 'server', environment_name: 'Not A Name!' }), /environment_name/],
      [
        await provision({
          agent_type: 'server',
          environment_name: 'bad-inputs',
          config: { log_level: 'loud' },
        }),
        /log_level/,
      ],
      [await provision('{"agent_type": "server",'), /JSON|body/i],
      [await api('GET', '/api/v1/agents?status=sleeping'), /status/],
      [await api('GET', `/api/v1/agents/${agentId}/metrics?name=${METRIC}&from=yesterday`), /from/],
      // Without `name` the route lists the agent's metrics (discovery); its `from` is checked all the same.
      [await api('GET', `/api/v1/agents/${agentId}/metrics?from=yesterday`), /from/],
      [await api('GET', `/api/v1/agents/${agentId}/metrics?name=not%20a%20name`), /name/],
    ] as const;
    for (const [response, mentions] of bad) {
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toMatch(mentions);
    }
    expect(
      (
        await apiClient(launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:'))(
          'GET',
          '/api/v1/agents',
        )
      ).status,
    ).toBe(401);

    expect(await snapshot()).toEqual(before);
    // Events arrive in order: once a later good provision's event is here, none of the bad
    // requests can still have one in flight.
    expect((await provision({ agent_type: 'server', environment_name: 'after-bad-inputs' })).status).toBe(
      201,
    );
    await waitFor('environment.created for the good request', () =>
      events
        .all()
        .slice(eventsBefore)
        .find((e) => e.kind === EventKinds.environmentCreated),
    );
    const since = (kind: string) =>
      events
        .all()
        .slice(eventsBefore)
        .filter((e) => e.kind === kind);
    expect(since(EventKinds.environmentCreated).map((e) => e.environment)).toEqual(['after-bad-inputs']);
    await waitFor('token.issued for the good request', () => since(EventKinds.tokenIssued).length > 0);
    expect(since(EventKinds.tokenIssued)).toHaveLength(1);
  });

  it('after a NATS server restart the services and the agent reconnect and new metrics arrive', async () => {
    await nats.restart();
    // A bucket starting after this instant only holds samples collected after the restart.
    const restartedAt = Date.now();
    await waitFor(
      `a ${METRIC} point collected after the NATS restart`,
      async () => {
        const result = await api<{ series: { points: { ts: number }[] }[] }>(
          'GET',
          `/api/v1/agents/${agentId}/metrics?name=${METRIC}&from=${restartedAt - 1000}&to=${Date.now() + 1000}&step=1`,
        );
        return result.body.series?.some((series) => series.points.some((p) => p.ts >= restartedAt));
      },
      // About 1.5 s here (the clients' reconnect wait). Generous because an ack lost with the old
      // connection is only redelivered after the consumer's ack wait (10 s); nothing is lost either way.
      45_000,
      250,
    ).catch(failWithLogs);
    await waitFor('status online', async () => (await getAgent()).status === 'online', 20_000, 200).catch(
      failWithLogs,
    );
  }, 90_000);

  it('a revoked agent is refused: it is listed revoked and the agent exits with its revoked exit code', async () => {
    const revoked = await api<AgentJson>('DELETE', `/api/v1/agents/${agentId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const code = await exitWithin(agent!, 15_000);
    if (code !== AgentExitCodes.revoked) failWithLogs(new Error(`agent exit: ${code}`));
    await waitFor('agent.revoked event', () => events.of(EventKinds.agentRevoked, agentId).length > 0);
    expect(events.of(EventKinds.agentRevoked, agentId)).toHaveLength(1);

    // Its saved credential is refused on the next start too; the record stays revoked.
    agent = runAgent();
    expect(await exitWithin(agent, 15_000)).toBe(AgentExitCodes.revoked);
    expect((await getAgent()).status).toBe('revoked');
  });

  it('a second npm start on the same data prints no new key and still lists the agent', async () => {
    expect(await launcher.stop('SIGTERM')).toBe(0);
    launcher = await startLauncher(platformEnv());
    expect(launcher.banner.apiKey).toBeUndefined();
    expect(launcher.output()).not.toContain('Bootstrap API key');
    api = apiClient(launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:'), apiKey);
    expect(await getAgent()).toMatchObject({ id: agentId, status: 'revoked' });
  });
});
