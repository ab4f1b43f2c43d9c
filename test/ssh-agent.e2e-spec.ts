import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  requireTool,
  startNatsServer,
  NatsServerHandle,
  TestSshServer,
  createTestDatabase,
  TestDatabase,
  waitFor,
} from '@app/testing';
import {
  agentCommandEnvironment,
  BUILD_TIMEOUT_MS,
  cleanEnv,
  ensureBuilt,
  RunningLauncher,
  startLauncher,
} from './support/launcher';
import { AgentProcess, Api, apiClient, startAgent } from './support/platform-api';

/**
 * The agentless ssh type as a user runs it: the platform with `npm start`, one real agent process on
 * the "jump host" collecting from a real sshd and from a target that never answers. The reachable target
 * becomes its own online host with metrics; the other never shows up; stopping sshd takes the target offline.
 */
const sshd = requireTool('sshd');

interface AgentJson {
  id: string;
  type: string;
  status: string;
  host_id: string;
  hostname: string;
}

const ENVIRONMENT = 'ssh-targets';

sshd.describe('ssh targets through a jump-host agent with npm start', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let launcher: RunningLauncher;
  let server: TestSshServer;
  let api: Api;
  let agent: AgentProcess;
  let dir: string;
  let target: AgentJson;

  const agents = async () =>
    (await api<{ items: AgentJson[] }>('GET', `/api/v1/agents?environment=${ENVIRONMENT}`)).body.items;
  const withLogs = (error: Error): never => {
    throw new Error(
      `${error.message}\n--- agent ---\n${agent?.output().slice(-4000)}\n--- sshd ---\n${server.output()}`,
    );
  };

  beforeAll(async () => {
    ensureBuilt();
    server = await TestSshServer.start();
    dir = mkdtempSync(join(tmpdir(), 'rca-e2e-ssh-'));
    writeFileSync(join(dir, 'known_hosts'), server.knownHostsLine());
    nats = await startNatsServer({ secured: true });
    database = await createTestDatabase('sqlite', 'ssh');
    launcher = await startLauncher(
      cleanEnv({
        NATS_URL: nats.url,
        NATS_AUTH_DIR: nats.bus!.authority.dir,
        DATA_DIR: database.env.DATA_DIR,
        DATABASE_URL: database.env.DATABASE_URL,
        PORT: '0',
        HEARTBEAT_INTERVAL_SECONDS: '1',
        DEFAULT_HEARTBEAT_INTERVAL_SECONDS: '1',
      }),
    );
    api = apiClient(launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:'), launcher.banner.apiKey);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await launcher?.stop();
    await nats?.dispose();
    await database?.cleanup();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the ssh type and provisions a docker run command for the jump host', async () => {
    const types = await api<{ type: string; config: { name: string; required: boolean }[] }[]>(
      'GET',
      '/api/v1/agent/types',
    );
    expect(types.body.map((t) => t.type)).toEqual(expect.arrayContaining(['nomad', 'ssh']));
    expect(types.body.find((t) => t.type === 'ssh')?.config).toContainEqual(
      expect.objectContaining({ name: 'targets', required: true }),
    );
    const provisioned = await api<{
      enrollment_token: string;
      commands: { command: string }[];
      instructions: string[];
    }>('POST', '/api/v1/agent/provision', {
      agent_type: 'ssh',
      environment_name: ENVIRONMENT,
      config: { targets: `${server.target},${server.user}@127.0.0.1:1` },
    });
    expect(provisioned.status).toBe(201);
    expect(provisioned.body.commands[0].command).toContain(`-e RCA_TARGETS=${server.target},`);
    expect(provisioned.body.instructions.join('\n')).toContain('at least 2 uses');

    agent = startAgent(
      cleanEnv({
        ...agentCommandEnvironment(launcher.banner.agentCommand!),
        RCA_TOKEN: provisioned.body.enrollment_token,
        RCA_STATE_DIR: join(dir, 'state'),
        RCA_HEARTBEAT_INTERVAL: '1',
        RCA_AGENT_TYPE: 'ssh',
        RCA_TARGETS: `${server.target},${server.user}@127.0.0.1:1`,
        RCA_PRIVATE_KEY_PATH: server.userKeyFile,
        RCA_KNOWN_HOSTS_PATH: join(dir, 'known_hosts'),
        RCA_SSH_TIMEOUT_SECONDS: '2',
      }),
    );
  });

  it('the reachable target goes online as its own host with metrics; the unreachable one does not appear', async () => {
    target = await waitFor(
      'the ssh target online',
      async () => {
        if (agent.exitCode() !== undefined) throw new Error(`agent exited with ${agent.exitCode()}`);
        return (await agents()).find((a) => a.status === 'online');
      },
      30_000,
      250,
    ).catch(withLogs);
    expect(target).toMatchObject({ type: 'ssh' });
    expect(target.host_id).toMatch(/^ssh-/);
    const from = Date.now() - 60_000;
    const series = await waitFor(
      'system.memory.total of the target',
      async () => {
        const result = await api<{ series: { points: { max: number }[] }[] }>(
          'GET',
          `/api/v1/agents/${target.id}/metrics?name=system.memory.total&from=${from}&to=${Date.now() + 1000}&step=1`,
        );
        return result.body.series?.find((s) => s.points.length > 0);
      },
      20_000,
      250,
    ).catch(withLogs);
    expect(series.points[0].max).toBeGreaterThan(0);
    expect(await agents()).toHaveLength(1);
    expect(agent.output()).toMatch(/127\.0\.0\.1:1: .*ECONNREFUSED/);
  }, 60_000);

  it('the target goes offline when its sshd stops, while the jump-host agent keeps running', async () => {
    await server.stop();
    await waitFor(
      'the target offline',
      async () => (await agents()).find((a) => a.id === target.id)?.status === 'offline',
      30_000,
      250,
    ).catch(withLogs);
    expect(agent.exitCode()).toBeUndefined();
  }, 40_000);

  it('comes back online under the same identity when sshd answers again', async () => {
    await server.resume();
    await waitFor(
      'the target online again',
      async () => (await agents()).find((a) => a.id === target.id)?.status === 'online',
      30_000,
      250,
    ).catch(withLogs);
    expect(await agents()).toHaveLength(1);
  }, 40_000);
});
