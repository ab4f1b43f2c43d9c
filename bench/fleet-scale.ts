import { IngestionStats, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { HeartbeatFleet, issueAgentIdentities, SimulatedAgent } from './lib/agent-fleet';
import { benchConfig, fleetSizes } from './lib/bench-config';
import { BenchContext, Scenario } from './lib/harness';
import { startPlatform } from './lib/platform';
import { MiB, ProcessSampler } from './lib/process-sampler';
import { isBuilt } from './lib/services';

/** Publishing connections shared by all simulated agents (a real fleet has one each; the server cost per message is the same). */
const CONNECTIONS = 4;
const INTERVAL_MS = 10_000;
/** Measurement windows are one heartbeat interval long: every agent sends exactly once per window. */
const WINDOW_MS = INTERVAL_MS;
const ENVIRONMENT = 'fleet';
/** Agents joining per 10 s interval while the fleet grows to the next size (≈ 1,000 agent lookups/s). */
const RAMP_PER_INTERVAL = 10_000;
/** How long we wait for every agent to be declared offline after the fleet stops (3 missed × 10 s + flush + sweep). */
const OFFLINE_WAIT_MS = 90_000;

/** A stats request slower than this counts as unanswered: ingestion's event loop is too far behind. */
const STATS_TIMEOUT_MS = 5_000;

interface Counters {
  accepted: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  online: number;
  /** Round trip of the stats request: queued behind heartbeats on ingestion's connection and event loop. */
  answerMs: number;
}

async function counters(rpc: RpcClient): Promise<Counters> {
  const sent = performance.now();
  const stats = await rpc.request<IngestionStats>(
    Subjects.ingestionStats,
    {},
    { timeoutMs: STATS_TIMEOUT_MS },
  );
  const rejected = Object.values(stats.rejectedByReason ?? {}).reduce((a, b) => a + b, 0);
  return {
    accepted: stats.heartbeatsAccepted,
    rejected,
    rejectedByReason: stats.rejectedByReason ?? {},
    online: stats.agentsOnline,
    answerMs: performance.now() - sent,
  };
}

/** Counters, or undefined when ingestion does not answer in time (recorded as such, never waited on). */
async function tryCounters(rpc: RpcClient): Promise<Counters | undefined> {
  try {
    return await counters(rpc);
  } catch {
    return undefined;
  }
}

/** nats-server logs a line per slow-consumer disconnect; a subscriber that cannot keep up shows here first. */
function slowConsumerEvents(log: string): number {
  return (log.match(/slow consumer/gi) ?? []).length;
}

export const fleetScale: Scenario = {
  name: 'fleet-scale',
  title: 'Fleet scale: simulated agents heartbeating every 10 s into ingestion',
  async run(ctx) {
    for (const s of ['tokens', 'ingestion'] as const) {
      if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
    }
    const config = benchConfig();
    const sizes = fleetSizes(config);
    const windows = Math.max(1, Math.floor(config.BENCH_FLEET_SECONDS / (WINDOW_MS / 1000)) - 1);
    ctx.note(
      `${sizes.join(' → ')} agents over ${CONNECTIONS} NATS connections, one heartbeat per agent per 10 s spread evenly; ` +
        `new agents join at ≤ ${RAMP_PER_INTERVAL.toLocaleString('en-US')} per interval; each size is then held ${config.BENCH_FLEET_SECONDS} s: ` +
        `one warm-up interval, then ${windows} 10-second windows are the samples (median/min/max over windows, not over repeated runs); SQLite`,
    );
    ctx.note(
      'identities come from tokens.agents.issue rather than the intake: enrolling 100k agents at the measured ' +
        'enrollment rate would exceed the scenario time bound; ingestion only looks the agent up, not the registry row',
    );
    const platform = await startPlatform({
      engine: 'sqlite',
      services: ['tokens', 'ingestion'],
      env: { ingestion: { LOG_LEVEL: 'warn' } },
    });
    const fleet = new HeartbeatFleet(platform.nats.url, CONNECTIONS, INTERVAL_MS);
    const ingestion = platform.processes.ingestion!;
    const tokens = platform.processes.tokens!;
    try {
      await fleet.connect();
      let agents: SimulatedAgent[] = [];
      for (const size of sizes) {
        if (size > agents.length) {
          // The running fleet keeps heartbeating while new agents get identities, as a growing fleet would.
          const issueStart = performance.now();
          const added = await issueAgentIdentities(
            platform.rpc,
            platform.organizationId,
            ENVIRONMENT,
            agents.length,
            size - agents.length,
          );
          const seconds = (performance.now() - issueStart) / 1000;
          ctx.log(`issued ${added.length} agent identities in ${seconds.toFixed(1)} s`);
          ctx.record(
            'tokens.agents.issue (agent identity) rate, 64 in flight',
            'tokens/s',
            added.length / seconds,
          );
          agents = agents.concat(added);
        }
        await rampUp(ctx, fleet, agents, size, platform.rpc, ingestion.pid);
        await holdLevel(
          ctx,
          size,
          windows,
          fleet,
          platform.rpc,
          { ingestion: ingestion.pid, tokens: tokens.pid },
          () => platform.nats.log(),
        );
      }
      await offlineDetection(ctx, fleet, platform.rpc, sizes[sizes.length - 1]);
    } finally {
      await fleet.close().catch(() => undefined);
      await platform.stop();
    }
  },
};

/**
 * New agents join at most RAMP_PER_INTERVAL per heartbeat interval, as a real fleet grows:
 * each joining agent's first heartbeat costs ingestion one directory lookup. Every
 * step is measured, so the table shows the fleet size at which ingestion stops keeping up.
 */
async function rampUp(
  ctx: BenchContext,
  fleet: HeartbeatFleet,
  agents: SimulatedAgent[],
  size: number,
  rpc: RpcClient,
  ingestionPid: number,
): Promise<void> {
  const from = fleet.size;
  let largest: number | undefined;
  for (let n = Math.min(size, from + RAMP_PER_INTERVAL); ; n = Math.min(size, n + RAMP_PER_INTERVAL)) {
    fleet.setAgents(agents.slice(0, n));
    if (!fleet.running) fleet.start();
    if (n >= size) break;
    const sampler = new ProcessSampler(ingestionPid, 1000).start();
    const offered0 = fleet.published;
    const t0 = performance.now();
    const before = await tryCounters(rpc);
    await sleep(Math.max(0, INTERVAL_MS - (performance.now() - t0)));
    const after = await tryCounters(rpc);
    const seconds = (performance.now() - t0) / 1000;
    const usage = sampler.stop();
    const offered = (fleet.published - offered0) / seconds;
    const handled = before && after ? (after.accepted - before.accepted) / seconds : undefined;
    const keptUp = handled !== undefined && handled >= 0.95 * offered;
    if (keptUp && (largest === undefined || n > largest)) largest = n;
    ctx.note(
      `ramp step ${n.toLocaleString('en-US')} agents: offered ${Math.round(offered)} hb/s, ` +
        (handled === undefined ? 'ingestion stats unanswered' : `accepted ${Math.round(handled)} hb/s`) +
        `, stats answer ${after ? `${Math.round(after.answerMs)} ms` : `> ${STATS_TIMEOUT_MS} ms`}` +
        `, ingestion CPU ${Math.round(usage.cpuPercent)} %, RSS ${Math.round(usage.rssMaxBytes / MiB)} MiB`,
    );
  }
  if (largest !== undefined) {
    ctx.record(`ramp to ${size.toLocaleString('en-US')}: largest step kept up with`, 'agents', largest, {
      note: KEPT_UP,
    });
  }
  if (size > from) ctx.log(`ramped ${from} → ${size} agents`);
}

const KEPT_UP =
  'a ramp step counts when ingestion answered its stats and accepted ≥ 95 % of the heartbeats offered in it';

async function holdLevel(
  ctx: BenchContext,
  size: number,
  windows: number,
  fleet: HeartbeatFleet,
  rpc: RpcClient,
  pids: { ingestion: number; tokens: number },
  natsLog: () => string,
): Promise<void> {
  const label = `${size.toLocaleString('en-US')} agents`;
  ctx.log(`${label}: warm-up interval`);
  const offeredBefore = fleet.published;
  const slowBefore = slowConsumerEvents(natsLog());
  const before = await tryCounters(rpc);
  await sleep(WINDOW_MS);
  const warm = await tryCounters(rpc);
  const warmOffered = fleet.published - offeredBefore;
  if (!before) {
    ctx.note(
      `${label}: ingestion did not answer its stats request as the level began; only CPU, RSS and offered load are measured`,
    );
  }
  if (before && warm) {
    ctx.record(`${label}: first interval handled`, '%', share(warm.accepted - before.accepted, warmOffered), {
      note: 'the interval right after the last agents joined: their lookups may still be in flight',
    });
  }

  let unanswered = 0;
  let last: Counters | undefined;
  for (let w = 0; w < windows; w++) {
    // Windows are wall-clock intervals; a slow stats answer shortens the next window instead of stretching this one.
    const windowStart = performance.now();
    const ing = new ProcessSampler(pids.ingestion, 1000).start();
    const tok = new ProcessSampler(pids.tokens, 1000).start();
    const gen = new ProcessSampler(process.pid, 1000).start();
    const offered0 = fleet.published;
    const start = last ?? (await tryCounters(rpc));
    await sleep(Math.max(0, WINDOW_MS - (performance.now() - windowStart)));
    const end = await tryCounters(rpc);
    const seconds = (performance.now() - windowStart) / 1000;
    const offered = fleet.published - offered0;
    const ingUsage = ing.stop();
    ctx.record(`${label}: offered`, 'hb/s', offered / seconds);
    ctx.record(`${label}: ingestion CPU`, '%', ingUsage.cpuPercent, { note: '100 % = one core' });
    ctx.record(`${label}: ingestion RSS`, 'MiB', ingUsage.rssMaxBytes / MiB);
    ctx.record(`${label}: tokens CPU`, '%', tok.stop().cpuPercent, {
      note: "the token service answers ingestion's agent lookups (ingestion caches each answer)",
    });
    ctx.record(`${label}: load generator CPU`, '%', gen.stop().cpuPercent);
    last = end;
    if (!start || !end || !before) {
      unanswered++;
      ctx.log(`${label}: window ${w + 1}/${windows} offered ${offered}, ingestion stats unanswered`);
      continue;
    }
    const handled = end.accepted - start.accepted;
    ctx.record(`${label}: handled (accepted)`, 'hb/s', handled / seconds, { baseline: `${label}: offered` });
    ctx.record(`${label}: rejected`, 'hb/s', (end.rejected - start.rejected) / seconds);
    // Everything offered since the level began that ingestion has neither accepted nor rejected yet.
    ctx.record(
      `${label}: backlog at window end`,
      'heartbeats',
      Math.max(
        0,
        fleet.published - offeredBefore - (end.accepted - before.accepted) - (end.rejected - before.rejected),
      ),
      { note: 'offered − (accepted + rejected) since the level began; bounded = keeping up' },
    );
    ctx.record(`${label}: stats request answer time`, 'ms', end.answerMs, {
      note: "the stats request waits behind heartbeats on ingestion's connection: a direct measure of its queue",
    });
    ctx.log(`${label}: window ${w + 1}/${windows} offered ${offered} handled ${handled}`);
  }
  if (unanswered)
    ctx.note(
      `${label}: ingestion did not answer the stats request within ${STATS_TIMEOUT_MS} ms in ${unanswered} of ${windows} windows`,
    );
  const final = await tryCounters(rpc);
  if (final) {
    ctx.record(`${label}: agents online at level end`, 'agents', final.online, {
      note: 'from the agents table, written every LAST_SEEN_FLUSH_SECONDS (5 s)',
    });
    const rejected = Object.entries(final.rejectedByReason).filter(([, n]) => n > 0);
    if (rejected.length)
      ctx.note(`${label}: rejections so far by reason: ${rejected.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  ctx.record(
    `${label}: nats-server slow-consumer events`,
    'count',
    slowConsumerEvents(natsLog()) - slowBefore,
  );
}

/** Stops every agent at once and measures how long ingestion takes to declare the whole fleet offline. */
async function offlineDetection(
  ctx: BenchContext,
  fleet: HeartbeatFleet,
  rpc: RpcClient,
  size: number,
): Promise<void> {
  fleet.stop();
  await fleet.flush();
  const stoppedAt = performance.now();
  ctx.log(`fleet stopped; waiting for ${size} agents to go offline`);
  let online = (await tryCounters(rpc))?.online ?? size;
  const onlineAtStop = online;
  if (onlineAtStop === 0) {
    ctx.note('no agent was online when the fleet stopped: offline detection not measured');
    return;
  }
  let firstOfflineAt: number | undefined;
  while (online > 0 && performance.now() - stoppedAt < OFFLINE_WAIT_MS) {
    await sleep(250);
    online = (await tryCounters(rpc))?.online ?? online;
    if (firstOfflineAt === undefined && online < onlineAtStop) firstOfflineAt = performance.now();
  }
  if (online > 0) {
    ctx.note(`${online} agents still online ${OFFLINE_WAIT_MS / 1000} s after the fleet stopped`);
    return;
  }
  ctx.note(`${onlineAtStop} agents were online when the fleet stopped`);
  const label = `${size.toLocaleString('en-US')} agents`;
  ctx.record(
    `${label}: first agent offline after stop`,
    's',
    ((firstOfflineAt ?? stoppedAt) - stoppedAt) / 1000,
  );
  ctx.record(`${label}: all agents offline after stop`, 's', (performance.now() - stoppedAt) / 1000, {
    note: 'expected ≈ 3 missed × 10 s after the last heartbeat + up to one 5 s flush/sweep round',
  });
}

function share(part: number, whole: number): number {
  return whole > 0 ? (part / whole) * 100 : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
