import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JSONCodec } from 'nats';
import { fromSeed } from 'nkeys.js';
import { formatToken, Headers, Heartbeat, MetricsBatch, Streams, validateDto } from '@app/contracts';
import { AgentExitCodes } from '@app/agent-core';
import { FakePlatform, NatsServerHandle, startFakePlatform, startNatsServer, waitFor } from '@app/testing';

const ROOT = resolve(__dirname, '../../..');
const json = JSONCodec<unknown>();

interface AgentProcess {
  proc: ChildProcess;
  output: () => string;
  exit: Promise<number>;
}

/** The real agent binary (TypeScript source through @swc-node/register), 1 s intervals. */
function spawnAgent(env: Record<string, string>): AgentProcess {
  let output = '';
  const proc = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/agent/src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      RCA_HEARTBEAT_INTERVAL: '1',
      RCA_COLLECT_INTERVAL: '1',
      RCA_LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number>((r) =>
    proc.once('exit', (code, signal) => r(code ?? (signal ? 128 : -1))),
  );
  return { proc, output: () => output, exit };
}

async function storedBatches(platform: FakePlatform): Promise<{ msgId: string; batch: MetricsBatch }[]> {
  const jsm = await platform.nc.jetstreamManager();
  const { state } = await jsm.streams.info(Streams.metrics);
  const out: { msgId: string; batch: MetricsBatch }[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(Streams.metrics, { seq });
    out.push({
      msgId: msg.header.get(Headers.msgId),
      batch: validateDto(MetricsBatch, json.decode(msg.data)),
    });
  }
  return out;
}

const purge = async (platform: FakePlatform) =>
  (await platform.nc.jetstreamManager()).streams.purge(Streams.metrics);
const enrollmentToken = () => formatToken('enrollment', randomBytes);

describe('the agent process', () => {
  let nats: NatsServerHandle;
  let platform: FakePlatform;
  let stateDir: string;
  const running: AgentProcess[] = [];

  beforeAll(async () => {
    nats = await startNatsServer({ secured: true });
    platform = await startFakePlatform(nats);
  });
  beforeEach(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'rca-agent-state-'));
    platform.enrollments.length = 0;
    platform.heartbeats.length = 0;
    platform.renewals.length = 0;
    platform.jwtTtlMs = 3600_000;
    await purge(platform);
  });
  afterEach(async () => {
    for (const agent of running.splice(0)) if (agent.proc.exitCode === null) agent.proc.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await platform.close();
    await nats.dispose();
  });

  const start = (env: Record<string, string> = {}) => {
    const agent = spawnAgent({
      RCA_NATS_URL: nats.url,
      RCA_PLATFORM_URL: platform.url,
      RCA_CA_FILE: platform.caFile,
      RCA_STATE_DIR: stateDir,
      ...env,
    });
    running.push(agent);
    return agent;
  };

  it('enrolls with its token and a key of its own, then publishes valid heartbeats and metrics as its own NATS user', async () => {
    const token = enrollmentToken();
    const agent = start({ RCA_TOKEN: token, RCA_LABELS: 'team=sre,tier=1' });
    await waitFor(
      'two stored metrics batches',
      async () => (await storedBatches(platform)).length >= 2,
      20_000,
    ).catch((e) => {
      throw new Error(`${e}\n${agent.output()}`);
    });

    expect(platform.enrollments).toHaveLength(1);
    expect(platform.enrollments[0].token).toBe(token);
    expect(platform.enrollments[0].request).toMatchObject({
      agentType: 'server',
      labels: { team: 'sre', tier: '1' },
    });
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    expect(statSync(join(stateDir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(state).toMatchObject({ environment: 'prod-1', organizationId: 'org_test' });
    // The private key stays on the host (0600); only its public half was sent, with a proof.
    expect(statSync(join(stateDir, 'agent.nk')).mode & 0o777).toBe(0o600);
    const key = fromSeed(Buffer.from(readFileSync(join(stateDir, 'agent.nk'), 'utf8').trim()));
    expect(platform.enrollments[0].request.identity.publicKey).toBe(key.getPublicKey());
    expect(JSON.stringify(platform.enrollments[0].request)).not.toContain(
      Buffer.from(key.getSeed()).toString(),
    );

    const heartbeat = await waitFor('a heartbeat', () => platform.heartbeats[0]);
    expect(heartbeat.subject).toBe(`agents.prod-1.${state.agentId}.heartbeat`);
    expect(heartbeat.via).toBe('nats');
    const body = validateDto(Heartbeat, heartbeat.body);
    expect(body).toMatchObject({ agentId: state.agentId, agentType: 'server', state: 'running', dropped: 0 });

    const stored = await storedBatches(platform);
    expect(stored[0].msgId).toBe(`${state.agentId}:${stored[0].batch.seq}`);
    const names = new Set(stored.flatMap((b) => b.batch.samples.map((s) => s.name)));
    expect([...names]).toEqual(expect.arrayContaining(['system.cpu.usage', 'system.memory.total']));
  });

  it('survives a 5 s NATS outage without losing or duplicating a batch, and stops cleanly on SIGTERM', async () => {
    const agent = start({ RCA_TOKEN: enrollmentToken() });
    await waitFor('a first stored batch', async () => (await storedBatches(platform)).length >= 1, 20_000);

    await nats.stop();
    const outageStart = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    await nats.restart();
    const outageEnd = Date.now();
    await waitFor(
      'batches collected after the restart',
      async () => (await storedBatches(platform)).some((b) => b.batch.collectedAt > Date.now() - 500),
      20_000,
    ).catch((e) => {
      throw new Error(`${e}\n${agent.output()}`);
    });

    const heartbeatsBefore = platform.heartbeats.length;
    agent.proc.kill('SIGTERM');
    const stoppedAt = Date.now();
    expect(await agent.exit).toBe(AgentExitCodes.ok);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    await waitFor('the stopping heartbeat', () =>
      platform.heartbeats.slice(heartbeatsBefore).find((h) => h.body.state === 'stopping'),
    );

    const stored = await storedBatches(platform);
    const seqs = stored.map((b) => b.batch.seq);
    // None duplicated: one stored message per Nats-Msg-Id.
    expect(new Set(stored.map((b) => b.msgId)).size).toBe(stored.length);
    // None lost: every sequence number from the first to the last is there, in order.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
    // The outage really produced buffered batches that were resent.
    const duringOutage = stored.filter(
      (b) => b.batch.collectedAt > outageStart && b.batch.collectedAt < outageEnd,
    );
    expect(duringOutage.length).toBeGreaterThanOrEqual(4);
  });

  it('reuses its saved identity after a restart instead of enrolling again, with higher sequence numbers', async () => {
    const first = start({ RCA_TOKEN: enrollmentToken() });
    await waitFor('a stored batch', async () => (await storedBatches(platform)).length >= 1, 20_000);
    first.proc.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    const lastSeq = Math.max(...(await storedBatches(platform)).map((b) => b.batch.seq));
    const { agentId } = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    const lastSentBefore = Math.max(...platform.heartbeats.map((h) => h.body.sentAt));

    const second = start(); // no token: the state file is enough
    await waitFor(
      'a batch from the restarted agent',
      async () => (await storedBatches(platform)).find((b) => b.batch.seq > lastSeq),
      20_000,
    ).catch((e) => {
      throw new Error(`${e}\n${second.output()}`);
    });
    expect(platform.enrollments).toHaveLength(1);
    expect((await storedBatches(platform)).every((b) => b.batch.agentId === agentId)).toBe(true);
    const resumed = await waitFor('a heartbeat from the restarted agent', () =>
      platform.heartbeats.find(
        (h) => h.body.state === 'running' && h.body.uptimeSeconds < 5 && h.body.sentAt > lastSentBefore,
      ),
    );
    expect(resumed.body.agentId).toBe(agentId);
  });

  it('stops with exit code 78 when the platform revokes it, and a restart refuses to run', async () => {
    const agent = start({ RCA_TOKEN: enrollmentToken() });
    const heartbeat = await waitFor('a heartbeat', () => platform.heartbeats[0], 20_000);
    await platform.sendControl('prod-1', heartbeat.body.agentId, { type: 'revoked' });
    expect(await agent.exit).toBe(AgentExitCodes.revoked);
    expect(agent.output()).toMatch(/revoked this agent/);

    const again = start();
    expect(await again.exit).toBe(AgentExitCodes.revoked);
    expect(again.output()).toMatch(/was revoked at/);
  });

  it('is disconnected by NATS when its key is revoked, learns why from the platform and exits 78', async () => {
    const agent = start({ RCA_TOKEN: enrollmentToken() });
    const heartbeat = await waitFor('a heartbeat', () => platform.heartbeats[0], 20_000);
    const revokedAt = Date.now();
    await platform.revoke(heartbeat.body.agentId);
    expect(await agent.exit).toBe(AgentExitCodes.revoked);
    // Disconnected at once, then one HTTP check: well within the reconnect backoff.
    expect(Date.now() - revokedAt).toBeLessThan(10_000);
    const heartbeatsAfter = platform.heartbeats.filter((h) => h.body.sentAt > revokedAt + 500);
    expect(heartbeatsAfter).toHaveLength(0);
  });

  it('renews its short-lived JWT over NATS while running, without a gap in its metrics', async () => {
    platform.jwtTtlMs = 8_000;
    const agent = start({ RCA_TOKEN: enrollmentToken() });
    await waitFor(
      'two renewals over NATS',
      () => platform.renewals.filter((r) => r.via === 'nats').length >= 2,
      30_000,
    ).catch((e) => {
      throw new Error(`${e}\n${agent.output()}`);
    });
    // Past the first JWT's expiry: still connected and publishing.
    await new Promise((r) => setTimeout(r, 2000));
    const stored = await storedBatches(platform);
    const seqs = stored.map((b) => b.batch.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(8);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
    expect(stored.at(-1)!.batch.collectedAt).toBeGreaterThan(Date.now() - 3000);
  });

  it('renews an expired JWT over HTTP when it starts again after a long stop', async () => {
    platform.jwtTtlMs = 4_000;
    const first = start({ RCA_TOKEN: enrollmentToken() });
    await waitFor('a stored batch', async () => (await storedBatches(platform)).length >= 1, 20_000);
    first.proc.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    const { jwtExpiresAt } = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(jwtExpiresAt) - Date.now()) + 500));
    platform.jwtTtlMs = 3600_000;
    const before = (await storedBatches(platform)).length;

    const second = start();
    await waitFor(
      'a batch after the restart',
      async () => (await storedBatches(platform)).length > before,
      20_000,
    ).catch((e) => {
      throw new Error(`${e}\n${second.output()}`);
    });
    expect(platform.renewals.some((r) => r.via === 'http')).toBe(true);
    expect(platform.enrollments).toHaveLength(1);
  });

  it('exits 77 with a clear message when the platform refuses the enrollment token', async () => {
    const token = enrollmentToken();
    platform.refusedTokens.add(token);
    const agent = start({ RCA_TOKEN: token });
    expect(await agent.exit).toBe(AgentExitCodes.enrollmentRefused);
    expect(agent.output()).toMatch(/enrollment refused \(TOKEN_REVOKED\)/);
  });

  it('exits 64 naming the problem when it has neither a token nor a saved identity', async () => {
    const agent = start();
    expect(await agent.exit).toBe(AgentExitCodes.badConfig);
    expect(agent.output()).toMatch(/no enrollment token \(RCA_TOKEN\)/);
  });

  it('prints one metrics batch as JSON with --once, without NATS or a token', async () => {
    const proc = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join(ROOT, 'apps/agent/src/main.ts'), '--once'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, RCA_STATE_DIR: stateDir },
      },
    );
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise((r) => proc.once('exit', r));
    expect(code).toBe(0);
    const batch = validateDto(MetricsBatch, JSON.parse(stdout));
    expect(batch.samples.find((s) => s.name === 'system.memory.total')!.value).toBeGreaterThan(0);
  });
});
