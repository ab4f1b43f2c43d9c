import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, TestSshServer } from '@app/testing';
import { BUILD_TIMEOUT_MS } from './support/launcher';
import {
  failWithOutputs,
  startPlatform,
  TestPlatform,
  waitForListed,
  waitForSeries,
} from './support/platform';
import { AgentProcess, Api } from './support/platform-api';

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
  let platform: TestPlatform;
  let server: TestSshServer;
  let api: Api;
  let agent: AgentProcess;
  let knownHosts: string;
  let target: AgentJson;

  const query = `environment=${ENVIRONMENT}`;
  const agents = async () => (await api<{ items: AgentJson[] }>('GET', `/api/v1/agents?${query}`)).body.items;
  const withLogs = failWithOutputs({ agent: () => agent?.output(), sshd: () => server.output() }, 4000);

  beforeAll(async () => {
    server = await TestSshServer.start();
    platform = await startPlatform({
      name: 'ssh',
      env: { HEARTBEAT_INTERVAL_SECONDS: '1', DEFAULT_HEARTBEAT_INTERVAL_SECONDS: '1' },
    });
    api = platform.api;
    knownHosts = join(platform.dirs.make('rca-e2e-ssh-'), 'known_hosts');
    writeFileSync(knownHosts, server.knownHostsLine());
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await platform?.stop();
    await server?.dispose();
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

    agent = platform.startAgent({
      RCA_TOKEN: provisioned.body.enrollment_token,
      RCA_HEARTBEAT_INTERVAL: '1',
      RCA_AGENT_TYPE: 'ssh',
      RCA_TARGETS: `${server.target},${server.user}@127.0.0.1:1`,
      RCA_PRIVATE_KEY_PATH: server.userKeyFile,
      RCA_KNOWN_HOSTS_PATH: knownHosts,
      RCA_SSH_TIMEOUT_SECONDS: '2',
    });
  });

  it('the reachable target goes online as its own host with metrics; the unreachable one does not appear', async () => {
    target = await waitForListed<AgentJson, AgentJson>(
      api,
      'the ssh target online',
      (listed) => listed.find((a) => a.status === 'online'),
      { query, agent, intervalMs: 250 },
    ).catch(withLogs);
    expect(target).toMatchObject({ type: 'ssh' });
    expect(target.host_id).toMatch(/^ssh-/);
    const from = Date.now() - 60_000;
    const series = await waitForSeries<{ points: { max: number }[] }>(api, target.id, 'system.memory.total', {
      from,
    }).catch(withLogs);
    expect(series.points[0].max).toBeGreaterThan(0);
    expect(await agents()).toHaveLength(1);
    expect(agent.output()).toMatch(/127\.0\.0\.1:1: .*ECONNREFUSED/);
  }, 60_000);

  it('the target goes offline when its sshd stops, while the jump-host agent keeps running', async () => {
    await server.stop();
    await waitForListed<AgentJson, true>(
      api,
      'the target offline',
      (listed) => listed.find((a) => a.id === target.id)?.status === 'offline',
      { query, intervalMs: 250 },
    ).catch(withLogs);
    expect(agent.exitCode()).toBeUndefined();
  }, 40_000);

  it('comes back online under the same identity when sshd answers again', async () => {
    await server.resume();
    await waitForListed<AgentJson, true>(
      api,
      'the target online again',
      (listed) => listed.find((a) => a.id === target.id)?.status === 'online',
      { query, intervalMs: 250 },
    ).catch(withLogs);
    expect(await agents()).toHaveLength(1);
  }, 40_000);
});
