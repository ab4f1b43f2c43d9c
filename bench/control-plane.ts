import { join } from 'node:path';
import { Engine } from '@app/persistence';
import { Subjects } from '@app/contracts';
import { benchConfig } from './lib/bench-config';
import { enrollmentStorm, provisionToken } from './lib/enroll';
import { BenchContext, quantile, Scenario } from './lib/harness';
import { freePort, httpLoad, HttpLoadOptions } from './lib/http-load';
import { Platform, startPlatform } from './lib/platform';
import { ProcessSampler } from './lib/process-sampler';
import { httpStatus, isBuilt, startTsProcess, stopAll, waitUntilReady } from './lib/services';

/** Requests in flight: enough to keep every stage busy on 2 cores without building long queues. */
const CONCURRENCY = 16;
const LOAD_MS = 8_000;
const MAX_REQUESTS = 40_000;
const WARMUP_REQUESTS = 300;
const PROVISION_BODY = { agent_type: 'server', environment_name: 'bench', config: { log_level: 'info' } };
const BARE = 'bare NestJS handler';

const ENGINE_LABEL: Record<Engine, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

export const controlPlane: Scenario = {
  name: 'control-plane',
  title: 'Control plane: POST /api/v1/agent/provision and the enrollment storm',
  async run(ctx) {
    for (const s of ['tokens', 'provisioning', 'gateway'] as const) {
      if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
    }
    const config = benchConfig();
    const engines: Engine[] = config.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
    ctx.note(
      `closed loop, ${CONCURRENCY} keep-alive connections, ${LOAD_MS / 1000} s (≤ ${MAX_REQUESTS} requests) per run; ` +
        `enrollment storm of ${config.BENCH_ENROLL_STORM} agents at once over 1 NATS connection; engines: ${engines.join(', ')}`,
    );
    await bareBaseline(ctx);
    for (const engine of engines) await platformRuns(ctx, engine, config.BENCH_ENROLL_STORM);
  },
};

async function bareBaseline(ctx: BenchContext): Promise<void> {
  const port = await freePort();
  const bare = startTsProcess('bare-http', join(__dirname, 'lib', 'bare-http-server.ts'), {
    PORT: String(port),
  });
  try {
    const url = `http://127.0.0.1:${port}/api/v1/agent/provision`;
    // The bare server has no GET route: a 404 still proves it listens.
    await waitUntilReady(bare, 'listening', async () => (await httpStatus(url)) !== undefined);
    const options: HttpLoadOptions = loadOptions(url, {});
    await httpLoad({ ...options, maxRequests: WARMUP_REQUESTS });
    await ctx.repeat(async () => {
      const result = await httpLoad(options);
      if (result.failed) ctx.log(`bare: ${result.failed} failed (${result.firstFailure})`);
      ctx.record(`${BARE} req/s`, 'req/s', result.requestsPerSecond, {
        note: 'NestJS 11 + express, JSON body parsed, fixed provision-sized reply; its own process like the gateway',
      });
      ctx.record(`${BARE} p50`, 'ms', result.p50Ms);
      ctx.record(`${BARE} p99`, 'ms', result.p99Ms);
    });
  } finally {
    await stopAll([bare]);
  }
}

async function platformRuns(ctx: BenchContext, engine: Engine, stormSize: number): Promise<void> {
  const label = ENGINE_LABEL[engine];
  const platform = await startPlatform({
    engine,
    services: ['tokens', 'provisioning', 'gateway'],
    // The per-token enrollment limit (30/min by default) would turn the storm into a rate-limit test.
    env: { provisioning: { ENROLL_RATE_PER_MINUTE: '100000' } },
  });
  try {
    const url = `${platform.gatewayUrl}/api/v1/agent/provision`;
    const options = loadOptions(url, { authorization: `Bearer ${platform.apiKey}` });
    const warm = await httpLoad({ ...options, maxRequests: WARMUP_REQUESTS });
    if (warm.failed) throw new Error(`provision failed during warm-up: ${warm.firstFailure}`);

    await ctx.repeat(async (run) => {
      const samplers = startSamplers(platform);
      const result = await httpLoad(options);
      const usage = stopSamplers(samplers);
      if (result.failed)
        ctx.note(`${label} run ${run}: ${result.failed} provision requests failed (${result.firstFailure})`);
      ctx.record(`provision via gateway (${label}) req/s`, 'req/s', result.requestsPerSecond, {
        baseline: `${BARE} req/s`,
        note: 'gateway → NATS → provisioning → tokens (token row + audit) → reply',
      });
      ctx.record(`provision via gateway (${label}) p50`, 'ms', result.p50Ms, { baseline: `${BARE} p50` });
      ctx.record(`provision via gateway (${label}) p99`, 'ms', result.p99Ms, { baseline: `${BARE} p99` });
      for (const [name, cpu] of Object.entries(usage)) {
        ctx.record(`provision load: ${name} CPU (${label})`, '%', cpu);
      }

      const rpc = await rpcLoad(platform);
      ctx.record(`provision RPC without gateway (${label}) req/s`, 'req/s', rpc.perSecond, {
        baseline: `provision via gateway (${label}) req/s`,
        note: 'provisioning.provision over NATS straight from the bench: what the gateway adds is the difference',
      });
      ctx.record(`provision RPC without gateway (${label}) p99`, 'ms', rpc.p99Ms);

      const token = await provisionToken(platform.rpc, platform.organizationId, 'storm');
      const storm = await enrollmentStorm(platform.rpc, token, stormSize, `${engine}-run${run}`);
      if (storm.failed)
        ctx.note(`${label} run ${run}: ${storm.failed} agents not enrolled in time (${storm.firstFailure})`);
      ctx.record(
        `enrollment storm ${stormSize} agents (${label}): time to all enrolled`,
        's',
        storm.seconds,
        {
          note: "agents behave like the real one: 5 s request timeout, retries with the agent's backoff (1 s doubling to 30 s, ±20 % jitter)",
        },
      );
      ctx.record(`enrollment storm (${label}) rate`, 'enroll/s', storm.enrolled / storm.seconds, {
        note: 'each enrollment: verify+consume token, check the key proof, insert agent, sign its JWT, audit row, agent.registered event',
      });
      ctx.record(
        `enrollment storm (${label}) enrolled on the first attempt`,
        '%',
        (storm.firstAttempt / stormSize) * 100,
      );
      ctx.record(`enrollment storm (${label}) attempts per agent`, 'attempts', storm.attempts / stormSize);
      if (storm.enrolled) {
        ctx.record(`enrollment storm (${label}) per-agent time to enrolled p50`, 'ms', storm.p50Ms);
        ctx.record(`enrollment storm (${label}) per-agent time to enrolled p99`, 'ms', storm.p99Ms);
      }
    });
  } finally {
    await platform.stop();
  }
}

function loadOptions(url: string, headers: Record<string, string>): HttpLoadOptions {
  return {
    url,
    method: 'POST',
    headers,
    body: PROVISION_BODY,
    concurrency: CONCURRENCY,
    durationMs: LOAD_MS,
    maxRequests: MAX_REQUESTS,
    expectStatus: 201,
  };
}

/** The same closed loop as httpLoad, but as NATS requests to provisioning (no HTTP, no gateway). */
async function rpcLoad(platform: Platform): Promise<{ perSecond: number; p99Ms: number }> {
  const latencies: number[] = [];
  let ok = 0;
  const start = performance.now();
  const deadline = start + LOAD_MS;
  const worker = async () => {
    while (performance.now() < deadline && latencies.length < MAX_REQUESTS) {
      const sent = performance.now();
      await platform.rpc.request(Subjects.provisioning.provision, {
        organizationId: platform.organizationId,
        agentType: 'server',
        environmentName: 'bench',
        config: { log_level: 'info' },
        actor: 'bench',
      });
      ok++;
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  return {
    perSecond: ok / seconds,
    p99Ms: quantile(
      latencies.sort((a, b) => a - b),
      0.99,
    ),
  };
}

function startSamplers(platform: Platform): Map<string, ProcessSampler> {
  const samplers = new Map<string, ProcessSampler>();
  for (const [name, proc] of Object.entries(platform.processes)) {
    if (proc) samplers.set(name, new ProcessSampler(proc.pid, 500).start());
  }
  return samplers;
}

function stopSamplers(samplers: Map<string, ProcessSampler>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, sampler] of samplers) out[name] = sampler.stop().cpuPercent;
  return out;
}
