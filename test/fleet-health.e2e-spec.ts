import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromSeed } from 'nkeys.js';
import { AGENT_VERSION } from '@app/agent-core';
import { EventKinds, Heartbeat } from '@app/contracts';
import { requireTool, TestAgentKey, waitFor } from '@app/testing';
import { EventLog } from './support/event-log';
import { openBrowser, signIn, TestBrowser } from './support/browser';
import { BUILD_TIMEOUT_MS } from './support/launcher';
import { failWithOutputs, startPlatform, TestPlatform, waitForListed } from './support/platform';
import { AgentProcess, Api } from './support/platform-api';

/**
 * Fleet health end to end: the platform started by `npm start`, real agent processes, an independent
 * event subscriber. A Docker agent whose daemon socket does not answer is degraded (each failing
 * collector named) and online again once a Docker Engine API (podman) answers there; a server agent
 * stopped with SIGTERM is stopped at once, not offline; its version follows its heartbeats; metric
 * discovery lists what it sent; the dashboard shows the reasons and the versions.
 */

/** Heartbeats every 3 s, offline after 3 missed (9 s): "stopped within one interval" is then clearly not offline detection. */
const HEARTBEAT_SECONDS = 3;
const MISSED_HEARTBEATS = 3;
const LIVENESS_ENV = {
  HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  LIVENESS_MISSED_HEARTBEATS: String(MISSED_HEARTBEATS),
  LAST_SEEN_FLUSH_SECONDS: '0.25',
};
const PODMAN_FLAGS = ['--storage-driver=vfs', '--cgroup-manager=cgroupfs', '--events-backend=file'];
const OLD_VERSION = '0.0.1';

interface AgentJson {
  id: string;
  status: string;
  type: string;
  version: string;
  health: {
    reasons: { kind: string; component: string; message: string }[];
    components: { component: string; ok: boolean }[];
  } | null;
}
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const podman = requireTool('podman');
const browserTool = requireTool('chromium');

describe('fleet health with real agents and npm start', () => {
  let platform: TestPlatform;
  let events: EventLog;
  let api: Api;
  let baseUrl: string;
  let dockerToken: string;
  let dockerSocket: string;
  let podmanService: ChildProcess | undefined;
  let serverAgent: AgentProcess | undefined;
  let dockerAgent: AgentProcess | undefined;
  let serverStateDir: string;
  let serverId: string;
  let dockerId: string;
  let browser: TestBrowser | undefined;

  const getAgent = async (id: string) => {
    const response = await api<AgentJson>('GET', `/api/v1/agents/${id}`);
    if (response.status !== 200)
      throw new Error(`GET agent: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const failWithLogs = failWithOutputs(
    {
      'server agent': () => serverAgent?.output().slice(-2000),
      'docker agent': () => dockerAgent?.output().slice(-2000),
      'npm start': () => platform.launcher.output().slice(-4000),
    },
    Infinity,
  );
  const statusOf = (id: string, status: string, ms = 20_000) =>
    waitFor(
      `agent ${id} ${status}`,
      async () => ((await getAgent(id)).status === status ? getAgent(id) : undefined),
      ms,
      100,
    ).catch(failWithLogs);

  beforeAll(async () => {
    platform = await startPlatform({ name: 'fleet-health', events: true, env: LIVENESS_ENV });
    ({ api, baseUrl } = platform);
    events = platform.events!;
    dockerToken = await platform.provision('docker', 'dev');
    dockerSocket = join(platform.dirs.make('rca-e2e-docker-'), 'docker.sock');
    serverStateDir = platform.dirs.make('rca-e2e-server-');
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    podmanService?.kill('SIGTERM');
    await browser?.close();
    await platform?.stop();
  });

  it('a server agent is online and metric discovery lists what it sent, with unit, tags and newest sample', async () => {
    serverAgent = platform.startAgent({
      RCA_HEARTBEAT_INTERVAL: String(HEARTBEAT_SECONDS),
      RCA_COLLECT_INTERVAL: '2',
      RCA_STATE_DIR: serverStateDir,
    });
    const listed = await waitForListed<AgentJson, AgentJson>(
      api,
      'the server agent online',
      (agents) => agents[0],
      {
        query: 'type=server&status=online',
      },
    ).catch(failWithLogs);
    serverId = listed.id;
    const catalog = await waitFor(
      'the metric catalog',
      async () => {
        const res = await api<Json>('GET', `/api/v1/agents/${serverId}/metrics`);
        return (
          res.status === 200 && res.body.metrics.some((m: Json) => m.name === 'system.disk.usage') && res.body
        );
      },
      30_000,
      250,
    ).catch(failWithLogs);
    const memory = catalog.metrics.find((m: Json) => m.name === 'system.memory.total');
    expect(memory).toMatchObject({ unit: 'By', tags: {} });
    expect(Date.now() - memory.last_sample_at).toBeLessThan(60_000);
    const disk = catalog.metrics.find((m: Json) => m.name === 'system.disk.usage');
    expect(Object.keys(disk.tags)).toContain('mount');
    // Every listed name can be charted.
    const query = await api<Json>('GET', `/api/v1/agents/${serverId}/metrics?name=${memory.name}`);
    expect(query.status).toBe(200);
    expect(query.body.series.length).toBeGreaterThan(0);
  });

  it('a Docker agent whose daemon does not answer is degraded, each failing collector named, one agent.degraded', async () => {
    dockerAgent = platform.startAgent({
      RCA_TOKEN: dockerToken,
      RCA_AGENT_TYPE: 'docker',
      RCA_DOCKER_HOST: `unix://${dockerSocket}`,
      RCA_HEARTBEAT_INTERVAL: String(HEARTBEAT_SECONDS),
      RCA_COLLECT_INTERVAL: '1',
    });
    const listed = await waitForListed<AgentJson, AgentJson>(
      api,
      'the docker agent listed',
      (agents) => agents[0],
      {
        query: 'type=docker',
      },
    ).catch(failWithLogs);
    dockerId = listed.id;
    const degraded = await statusOf(dockerId, 'degraded', 30_000);
    const reasons = degraded.health!.reasons;
    expect(reasons.map((r) => r.component)).toEqual(
      expect.arrayContaining(['collector:docker.daemon', 'collector:docker.containers']),
    );
    for (const reason of reasons) {
      expect(reason.kind).toBe('collector_errors');
      expect(reason.message).toContain(dockerSocket);
    }
    await waitFor('agent.degraded', () => events.of(EventKinds.agentDegraded, dockerId).length > 0);
    // Several heartbeats more, all degraded: still one event.
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_SECONDS * 1000));
    expect(events.of(EventKinds.agentDegraded, dockerId)).toHaveLength(1);
    expect(events.of(EventKinds.agentDegraded, dockerId)[0].data).toMatchObject({
      reasons: expect.arrayContaining([expect.objectContaining({ component: 'collector:docker.daemon' })]),
    });
  });

  it('SIGTERM makes the server agent stopped within one heartbeat interval, with one agent.stopped and no offline', async () => {
    const signalled = Date.now();
    serverAgent!.kill('SIGTERM');
    await statusOf(serverId, 'stopped', 10_000);
    expect(Date.now() - signalled).toBeLessThan(HEARTBEAT_SECONDS * 1000);
    expect(await serverAgent!.exited()).toBe(0);
    // Longer than the offline threshold: a stopped agent is not reported offline.
    await new Promise((r) => setTimeout(r, (MISSED_HEARTBEATS + 1) * HEARTBEAT_SECONDS * 1000));
    expect((await getAgent(serverId)).status).toBe('stopped');
    expect(events.of(EventKinds.agentStopped, serverId)).toHaveLength(1);
    expect(events.of(EventKinds.agentOffline, serverId)).toHaveLength(0);
  });

  it('a heartbeat with another version, signed with the agent’s own key, updates the version everywhere', async () => {
    const key = new TestAgentKey(fromSeed(readFileSync(join(serverStateDir, 'agent.nk'))));
    const heartbeat: Heartbeat = {
      agentId: serverId,
      sentAt: Date.now(),
      agentType: 'server',
      agentVersion: OLD_VERSION,
      uptimeSeconds: 1,
      intervalSeconds: HEARTBEAT_SECONDS,
      state: 'running',
      host: { hostname: 'old-build', hostId: 'old-build', os: 'linux' },
      buffered: 0,
      dropped: 0,
    };
    const body = JSON.stringify(heartbeat);
    const response = await fetch(`${baseUrl}/api/v1/intake/heartbeat`, {
      method: 'POST',
      headers: key.signedHeaders(serverId, 'heartbeat', body),
      body,
    });
    expect(response.status).toBe(202);
    await waitFor(
      'the old version recorded',
      async () => (await getAgent(serverId)).version === OLD_VERSION,
    ).catch(failWithLogs);
    expect(events.of(EventKinds.agentVersionChanged, serverId).map((e) => e.data)).toEqual([
      expect.objectContaining({ version: AGENT_VERSION, previousVersion: null }),
      expect.objectContaining({ version: OLD_VERSION, previousVersion: AGENT_VERSION }),
    ]);
    const versions = (await api<Json>('GET', '/api/v1/fleet/versions')).body;
    expect(versions.current).toBe(AGENT_VERSION);
    expect(versions.behind.agents.map((a: Json) => a.id)).toEqual([serverId]);
    expect(versions.upgrade).toEqual([
      expect.objectContaining({
        type: 'server',
        in_place: true,
        command: expect.stringContaining('/install.sh'),
      }),
    ]);
  });

  browserTool.it(
    'the dashboard shows the degraded agent’s reasons and marks the version that is behind',
    async () => {
      browser = await openBrowser();
      const { page } = browser;
      await signIn(page, baseUrl, platform.launcher.banner.apiKey!);
      await page.getByRole('link', { name: 'degraded agents' }).waitFor();
      expect(await page.getByRole('link', { name: 'degraded agents' }).textContent()).toBe('1');

      await page.goto(`${baseUrl}/agents`);
      const serverRow = page.getByRole('row').filter({ hasText: serverId });
      await serverRow
        .getByTestId('agent-version')
        .filter({ hasText: `${OLD_VERSION}update available` })
        .waitFor();
      const dockerRow = page.getByRole('row').filter({ hasText: dockerId });
      expect(await dockerRow.getByTestId('agent-status').textContent()).toBe('degraded');
      expect(await dockerRow.getByTestId('agent-version').textContent()).toBe(AGENT_VERSION);

      await page.goto(`${baseUrl}/agents/${dockerId}`);
      const reasons = page.getByRole('list', { name: 'Degraded because' });
      await reasons.getByText('docker.daemon:', { exact: false }).waitFor();
      expect(await reasons.textContent()).toContain(dockerSocket);
      const components = page.getByRole('table', { name: 'Components' });
      expect(
        await components.getByRole('row').filter({ hasText: 'collector:docker.containers' }).textContent(),
      ).toContain('failing');
    },
  );

  podman.it(
    'once a Docker Engine API answers on its socket the agent is online again, with one agent.recovered',
    async () => {
      const root = platform.dirs.make('rca-e2e-podman-');
      const flags = [...PODMAN_FLAGS, '--root', join(root, 'storage'), '--runroot', join(root, 'run')];
      let log = '';
      podmanService = spawn('podman', [...flags, 'system', 'service', '--time=0', `unix://${dockerSocket}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      podmanService.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      podmanService.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const recovered = await statusOf(dockerId, 'online', 40_000).catch((error: Error) => {
        throw new Error(`${error.message}\n--- podman ---\n${log}`);
      });
      expect(recovered.health!.reasons).toEqual([]);
      await waitFor('agent.recovered', () => events.of(EventKinds.agentRecovered, dockerId).length > 0);
      await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_SECONDS * 1000));
      expect(events.of(EventKinds.agentRecovered, dockerId)).toHaveLength(1);
      expect(events.of(EventKinds.agentDegraded, dockerId)).toHaveLength(1);
      expect(await events.stored(EventKinds.agentRecovered, dockerId)).toBe(1);
      const catalog = (await api<Json>('GET', `/api/v1/agents/${dockerId}/metrics`)).body;
      expect(catalog.metrics.map((m: Json) => m.name)).toEqual(
        expect.arrayContaining(['docker.containers', 'docker.images']),
      );
    },
  );
});
