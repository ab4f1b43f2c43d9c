import { TokenLookupMode } from '@app/auth';
import { IngestionStats, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { createTestDatabase } from '@app/testing';
import { HeartbeatFleet, issueAgentCredentials, SimulatedAgent } from './lib/agent-fleet';
import { benchConfig } from './lib/bench-config';
import { BenchContext, Scenario } from './lib/harness';
import { Platform, startPlatform } from './lib/platform';
import { ProcessSampler } from './lib/process-sampler';
import { answers, isBuilt, startService, waitUntilReady } from './lib/services';

const CONNECTIONS = 4;
const INTERVAL_MS = 10_000;
const ENVIRONMENT = 'storm';
/** A mode that has not brought every agent online by then is reported as not done (time = this bound). */
const STORM_LIMIT_MS = 60_000;
const POLL_MS = 250;
const STATS_TIMEOUT_MS = 5_000;
/** Baseline last: it then finds every token row warm and `last_used_at` already written, so the ratio understates the gain. */
const MODES: TokenLookupMode[] = ['batched', 'single'];

/**
 * K agents nobody has verified yet send their first heartbeats within one 10 s interval into a
 * freshly started ingestion (what a fresh instance, a reconnect or a fast-growing fleet looks
 * like): every heartbeat is a cache miss. Run once with coalesced `tokens.verifyMany` lookups and
 * once with one `tokens.verify` per credential, against the same token service and credentials.
 */
export const credentialStorm: Scenario = {
  name: 'credential-storm',
  title: 'Credential storm: K new agents in one interval, batched vs per-token verification',
  async run(ctx) {
    for (const s of ['tokens', 'ingestion'] as const) {
      if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
    }
    const agentCount = benchConfig().BENCH_STORM_AGENTS;
    ctx.note(
      `${agentCount.toLocaleString('en-US')} agents with distinct credentials, each heartbeating every 10 s spread evenly over the interval, ` +
        `${CONNECTIONS} NATS connections; a fresh ingestion process (SQLite, LAST_SEEN_FLUSH_SECONDS=1) per mode; ` +
        `modes in the order ${MODES.join(', ')} (the baseline runs second, on warm token rows)`,
    );
    const platform = await startPlatform({ engine: 'sqlite', services: ['tokens'] });
    try {
      const issueStart = performance.now();
      const agents = await issueAgentCredentials(
        platform.rpc,
        platform.organizationId,
        ENVIRONMENT,
        0,
        agentCount,
      );
      ctx.log(
        `issued ${agents.length} credentials in ${((performance.now() - issueStart) / 1000).toFixed(1)} s`,
      );
      await ctx.repeat(async () => {
        for (const mode of MODES) await storm(ctx, platform, agents, mode);
      });
    } finally {
      await platform.stop();
    }
  },
};

async function storm(
  ctx: BenchContext,
  platform: Platform,
  agents: SimulatedAgent[],
  mode: TokenLookupMode,
): Promise<void> {
  const label = `${mode === 'batched' ? 'batched (tokens.verifyMany)' : 'per token (tokens.verify)'}`;
  const database = await createTestDatabase('sqlite', `storm-${mode}`);
  const ingestion = startService('ingestion', {
    NATS_URL: platform.nats.url,
    ...database.env,
    METRICS_PORT: '0',
    LAST_SEEN_FLUSH_SECONDS: '1',
    CREDENTIAL_LOOKUPS: mode,
  });
  const fleet = new HeartbeatFleet(platform.nats.url, CONNECTIONS, INTERVAL_MS);
  const requests = { verify: 0, verifyMany: 0 };
  const counting = [
    platform.nc.subscribe(Subjects.tokens.verify, { callback: () => requests.verify++ }),
    platform.nc.subscribe(Subjects.tokens.verifyMany, { callback: () => requests.verifyMany++ }),
  ];
  try {
    await waitUntilReady(ingestion, 'ready', () => answers(platform.nc, Subjects.ingestionStats));
    await platform.nc.flush();
    await fleet.connect();
    fleet.setAgents(agents);
    const tokensCpu = new ProcessSampler(platform.processes.tokens!.pid, 1000).start();
    const ingestionCpu = new ProcessSampler(ingestion.pid, 1000).start();
    const started = performance.now();
    fleet.start();

    let allOnlineAt: number | undefined;
    let unanswered = 0;
    while (performance.now() - started < STORM_LIMIT_MS) {
      await sleep(POLL_MS);
      const stats = await tryStats(platform.rpc);
      if (!stats) unanswered++;
      if (stats && stats.agentsOnline >= agents.length) {
        allOnlineAt = performance.now();
        break;
      }
    }
    const seconds = ((allOnlineAt ?? performance.now()) - started) / 1000;
    fleet.stop();
    const offered = fleet.published;
    await sleep(1000);
    const final = await tryStats(platform.rpc);
    const tokensUsage = tokensCpu.stop();
    const ingestionUsage = ingestionCpu.stop();
    const wallSeconds = (performance.now() - started) / 1000;

    ctx.record(`${label}: all agents online after`, 's', seconds, {
      baseline: 'per token (tokens.verify): all agents online after',
      note: `from the first heartbeat until ingestion counts every agent online; ${STORM_LIMIT_MS / 1000} s = not reached`,
    });
    if (!allOnlineAt)
      ctx.note(`${label}: ${final?.agentsOnline ?? '?'} of ${agents.length} online after ${seconds} s`);
    if (final) {
      ctx.record(
        `${label}: heartbeats accepted`,
        '% of offered',
        (final.heartbeatsAccepted / offered) * 100,
        {
          note: 'accepted ÷ published over the whole storm, counted 1 s after the fleet stopped',
        },
      );
      ctx.record(`${label}: rejected unverifiable`, 'heartbeats', final.rejectedByReason?.unverifiable ?? 0);
    }
    ctx.record(`${label}: requests to the token service`, 'requests', requests.verify + requests.verifyMany);
    ctx.record(`${label}: token service CPU time`, 's', (tokensUsage.cpuPercent / 100) * wallSeconds, {
      note: 'CPU seconds (user + system) from the first heartbeat until the final count',
    });
    ctx.record(`${label}: ingestion CPU time`, 's', (ingestionUsage.cpuPercent / 100) * wallSeconds);
    ctx.log(
      `${label}: online ${final?.agentsOnline ?? '?'} after ${seconds.toFixed(1)} s, ` +
        `rejected ${JSON.stringify(final?.rejectedByReason ?? {})}, stats unanswered ${unanswered}×, ` +
        `requests verify ${requests.verify} verifyMany ${requests.verifyMany}`,
    );
  } finally {
    counting.forEach((s) => s.unsubscribe());
    await fleet.close().catch(() => undefined);
    await ingestion.stop();
    await database.cleanup();
  }
}

async function tryStats(rpc: RpcClient): Promise<IngestionStats | undefined> {
  try {
    return await rpc.request<IngestionStats>(Subjects.ingestionStats, {}, { timeoutMs: STATS_TIMEOUT_MS });
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
