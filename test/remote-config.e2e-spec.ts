import { testEngines, waitFor } from '@app/testing';
import { BUILD_TIMEOUT_MS } from './support/launcher';
import { failWithOutputs, startPlatform, TestPlatform, waitForListed } from './support/platform';
import { AgentProcess, Api } from './support/platform-api';

/**
 * Remote configuration end to end: the platform as `npm start` runs it and a real agent process, whose
 * own log shows what it really does: at log level debug it writes a line per heartbeat, with its interval.
 */

/** The agent starts with this heartbeat interval; "within two intervals" is measured against it. */
const START_INTERVAL_SECONDS = 2;
const TWO_INTERVALS_MS = 2 * START_INTERVAL_SECONDS * 1000;

interface ConfigStatus {
  state: string;
  desired_version: number;
  applied_version: number | null;
  failed_version: number | null;
  error: string | null;
}

describe.each(testEngines())('remote configuration of a running agent (%s)', (engine) => {
  let platform: TestPlatform;
  let api: Api;
  let stateDir: string;
  let agent: AgentProcess | undefined;
  let agentId: string;
  /** The heartbeats the agent logged (debug level only), with the agent's own timestamps. */
  const beats = (): { at: number; intervalSeconds: number }[] =>
    (agent?.output() ?? '')
      .split('\n')
      .filter((line) => line.includes('"msg":"heartbeat"'))
      .map((line) => JSON.parse(line) as { time: number; intervalSeconds: number })
      .map((line) => ({ at: line.time, intervalSeconds: line.intervalSeconds }));

  const runAgent = () =>
    platform.startAgent({ RCA_HEARTBEAT_INTERVAL: String(START_INTERVAL_SECONDS), RCA_STATE_DIR: stateDir });
  const status = async (): Promise<ConfigStatus> => {
    const response = await api<{ status: ConfigStatus }>('GET', `/api/v1/agents/${agentId}/config`);
    if (response.status !== 200)
      throw new Error(`GET config: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.status;
  };
  const saveEnvironmentConfig = async (body: object): Promise<number> => {
    const response = await api<{ version: number }>('PUT', '/api/v1/environments/dev/config', body);
    if (response.status !== 200)
      throw new Error(`PUT config: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.version;
  };
  const failWithLogs = failWithOutputs({
    agent: () => agent?.output(),
    'npm start': () => platform.launcher.output(),
  });

  beforeAll(async () => {
    platform = await startPlatform({ name: 'remote-config', engine });
    api = platform.api;
    stateDir = platform.dirs.make('rca-e2e-config-');
  }, BUILD_TIMEOUT_MS);

  afterAll(() => platform?.stop());

  it('a config change reaches the running agent and is acknowledged with its version within two heartbeat intervals', async () => {
    agent = runAgent();
    const online = await waitForListed(api, 'the agent to be online', (agents) =>
      agents.find((a) => a.status === 'online'),
    ).catch(failWithLogs);
    agentId = online.id;
    // Started at log level info: no heartbeat lines.
    expect(beats()).toEqual([]);
    await waitFor('no config yet', async () => (await status()).state === 'none', 10_000).catch(failWithLogs);

    const savedAt = Date.now();
    const version = await saveEnvironmentConfig({ heartbeat_interval_seconds: 1, log_level: 'debug' });
    const applied = await waitFor(
      'the agent to acknowledge the config',
      async () => {
        const s = await status();
        return s.state === 'applied' ? s : undefined;
      },
      TWO_INTERVALS_MS,
      100,
    ).catch(failWithLogs);
    expect(Date.now() - savedAt).toBeLessThan(TWO_INTERVALS_MS);
    expect(applied).toMatchObject({ applied_version: version, desired_version: version });

    // The agent really changed: it logs at debug now, and beats every second, saying so in each heartbeat.
    await waitFor('four heartbeats at the new interval', () => beats().length >= 4, 10_000, 100).catch(
      failWithLogs,
    );
    const recent = beats();
    expect(recent.every((b) => b.intervalSeconds === 1)).toBe(true);
    const gaps = recent.slice(1).map((b, i) => b.at - recent[i].at);
    expect(Math.max(...gaps)).toBeLessThan(1600);
  });

  it('a config the agent cannot run is reported as failed, and the agent keeps running on the last good one', async () => {
    const good = (await status()).applied_version;
    const version = await saveEnvironmentConfig({ heartbeat_interval_seconds: 3, collectors: ['gpu'] });
    const failed = await waitFor(
      'the agent to report the rejection',
      async () => {
        const s = await status();
        return s.state === 'failed' ? s : undefined;
      },
      TWO_INTERVALS_MS,
      100,
    ).catch(failWithLogs);
    expect(failed).toMatchObject({ failed_version: version, applied_version: good });
    expect(failed.error).toMatch(/unknown collector gpu/);

    const from = beats().length;
    await waitFor('three more heartbeats', () => beats().length - from >= 3, 10_000, 100);
    expect(agent!.exitCode()).toBeUndefined();
    expect(beats().every((b) => b.intervalSeconds === 1)).toBe(true);
  });

  it('an agent that was stopped during a change runs the current config once it is back', async () => {
    agent!.kill('SIGTERM');
    await agent!.exited();
    const version = await saveEnvironmentConfig({
      heartbeat_interval_seconds: 1,
      collect_interval_seconds: 5,
      log_level: 'debug',
    });
    expect((await status()).state).toBe('pending');

    agent = runAgent();
    await waitFor(
      'the restarted agent to apply the current config',
      async () => (await status()).applied_version === version,
      20_000,
      200,
    ).catch(failWithLogs);
    await waitFor('heartbeats at the current interval', () => beats().length >= 3, 10_000, 100).catch(
      failWithLogs,
    );
    expect(beats().at(-1)!.intervalSeconds).toBe(1);
  });

  it('an agent restarted after a config it cannot run keeps the last good one it had applied', async () => {
    const good = (await status()).applied_version;
    agent!.kill('SIGTERM');
    await agent!.exited();
    const version = await saveEnvironmentConfig({ heartbeat_interval_seconds: 5, collectors: ['gpu'] });
    agent = runAgent();
    const failed = await waitFor(
      'the restarted agent to report the rejection',
      async () => {
        const s = await status();
        return s.state === 'failed' && s.failed_version === version ? s : undefined;
      },
      20_000,
      200,
    ).catch(failWithLogs);
    expect(failed.applied_version).toBe(good);
    // Still at debug and at 1 s: the saved config, not its start-up settings (info, 2 s).
    await waitFor('heartbeats at the last good interval', () => beats().length >= 3, 10_000, 100).catch(
      failWithLogs,
    );
    expect(beats().every((b) => b.intervalSeconds === 1)).toBe(true);
  });

  it('an agent on the HTTP transport fetches the current config through the intake when it starts', async () => {
    const version = await saveEnvironmentConfig({ heartbeat_interval_seconds: 1, log_level: 'debug' });
    const httpAgent = platform.startAgent({
      RCA_TRANSPORT: 'http',
      RCA_HEARTBEAT_INTERVAL: String(START_INTERVAL_SECONDS),
    });
    try {
      const applied = await waitFor(
        'the HTTP agent to apply the current config',
        () => /"msg":"applied configuration"/.test(httpAgent.output()) && httpAgent.output(),
        30_000,
        200,
      ).catch(failWithLogs);
      const id = /"agentId":"([^"]+)"/.exec(applied)![1];
      expect(id).not.toBe(agentId);
      // The ack follows the log line.
      await waitFor(
        'the HTTP agent to acknowledge it',
        async () => {
          const response = await api<{ status: ConfigStatus }>('GET', `/api/v1/agents/${id}/config`);
          return (
            response.body.status?.state === 'applied' && response.body.status.applied_version === version
          );
        },
        10_000,
        200,
      ).catch(failWithLogs);
    } finally {
      httpAgent.kill('SIGKILL');
    }
  });
});
