/**
 * Enroll + connect storm: N agents (STORM_AGENTS, default 2,000) start at the same moment against a
 * fresh platform (tokens, provisioning, ingestion, gateway as processes, SQLite, the secured bus). Each
 * does what the real agent does: generate its key, enroll over the gateway's intake (retrying 429/5xx
 * with the agent's backoff), open its own NATS connection with the JWT it got (TLS, nkey challenge)
 * and heartbeat every 10 s (the agent's default) from then on. Measured: time until all are enrolled, until all are connected, and until
 * ingestion tracks all of them; the per-agent enrollment time (p50/p99); and the services' CPU.
 *
 *   node -r @swc-node/register bench/enroll-connect-storm.ts
 *
 * Writes bench/results/enroll-connect-storm-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { connect, jwtAuthenticator, JSONCodec, NatsConnection } from 'nats';
import { enrollBackoffMs } from '@app/agent-core';
import { EnrollReply, inboxPrefix, IngestionStats, Subjects } from '@app/contracts';
import { TestAgentKey } from '@app/testing';
import { quantile, RESULTS_DIR } from './lib/harness';
import { provisionToken } from './lib/enroll';
import { heartbeatBody } from '../apps/ingestion/test/ingestion-fixtures';
import { startPlatform } from './lib/platform';
import { ProcessSampler } from './lib/process-sampler';

const AGENTS = Number(process.env.STORM_AGENTS ?? 2000);
/** The agent's own request timeout; a storm that is not done by then is reported as such. */
const REQUEST_TIMEOUT_MS = 5000;
const DEADLINE_MS = 180_000;
/**
 * Connections being opened at once. Agents are separate hosts; this one process does every TLS client
 * handshake (≈3.5 ms of CPU each in Node), and thousands at once would outlast nats-server's TLS
 * timeout on the bench's side alone.
 */
const CONNECT_CONCURRENCY = Number(process.env.STORM_CONNECT_CONCURRENCY ?? 200);

async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
const json = JSONCodec<unknown>();
let stopping = false;

interface Enrolled {
  agentId: string;
  environment: string;
  jwt: string;
  key: TestAgentKey;
}

async function enrollOne(
  gatewayUrl: string,
  token: string,
  i: number,
  attempts: { n: number },
): Promise<Enrolled> {
  const key = new TestAgentKey();
  const hostId = `storm-${i}`;
  const body = JSON.stringify({
    agentType: 'server',
    agentVersion: '0.1.0',
    host: { hostname: hostId, hostId, os: 'linux' },
    identity: key.claim(hostId),
  });
  for (let attempt = 0; ; attempt++) {
    attempts.n++;
    try {
      const response = await fetch(`${gatewayUrl}/api/v1/intake/enroll`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.ok) {
        const reply = (await response.json()) as EnrollReply;
        return { agentId: reply.agentId, environment: reply.environment, jwt: reply.jwt, key };
      }
      if (response.status < 500 && response.status !== 429)
        throw new Error(`refused: ${await response.text()}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('refused')) throw error;
    }
    await new Promise((r) => setTimeout(r, enrollBackoffMs(attempt, Math.random)));
  }
}

async function main() {
  const platform = await startPlatform({
    engine: 'sqlite',
    services: ['tokens', 'provisioning', 'ingestion', 'gateway'],
    env: {
      provisioning: { ENROLL_RATE_PER_MINUTE: String(AGENTS * 10), ENROLL_QUEUE_MAX: String(AGENTS * 2) },
    },
  });
  const connections: NatsConnection[] = [];
  try {
    const token = await provisionToken(platform.rpc, platform.organizationId, 'storm');
    const pids = Object.fromEntries(Object.entries(platform.processes).map(([name, p]) => [name, p!.pid]));
    const samplers = Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, new ProcessSampler(pid, 500).start()]),
    );
    const attempts = { n: 0 };
    const started = performance.now();
    const enrollTimes: number[] = [];
    const enrolled = await Promise.all(
      Array.from({ length: AGENTS }, (_, i) =>
        enrollOne(platform.gatewayUrl!, token, i, attempts).then((e) => {
          enrollTimes.push(performance.now() - started);
          return e;
        }),
      ),
    );
    const allEnrolled = performance.now();
    process.stderr.write(`enrolled ${enrolled.length} in ${((allEnrolled - started) / 1000).toFixed(1)} s\n`);

    // Each agent its own connection, as its own user, over TLS; then a heartbeat every 10 s (jittered).
    const connectTimes: number[] = [];
    const beating: NodeJS.Timeout[] = [];
    // Connections the server closed during the run, and why (a storm must not cost agents their link).
    const closed = { n: 0, reasons: new Set<string>() };
    await inBatches(enrolled, CONNECT_CONCURRENCY, async (agent) => {
      const nc = await connect({
        servers: platform.nats.url,
        authenticator: jwtAuthenticator(agent.jwt, agent.key.key.getSeed()),
        tls: { caFile: platform.nats.bus!.caFile },
        inboxPrefix: inboxPrefix(agent.agentId),
        timeout: 20_000,
      });
      connections.push(nc);
      connectTimes.push(performance.now() - allEnrolled);
      void nc.closed().then((error) => {
        if (stopping) return;
        closed.n++;
        closed.reasons.add(error?.message ?? 'closed by the server');
      });
      const beat = () => {
        if (!nc.isClosed())
          nc.publish(
            Subjects.heartbeat(agent.environment, agent.agentId),
            json.encode(heartbeatBody(agent.agentId, 10)),
          );
      };
      beat();
      await nc.flush();
      beating.push(setInterval(beat, 9000 + Math.random() * 2000));
    });
    const allConnected = performance.now();

    let tracked = 0;
    while (tracked < AGENTS && performance.now() - started < DEADLINE_MS) {
      const stats = await platform.rpc
        .request<IngestionStats>(Subjects.ingestionStats, {})
        .catch(() => undefined);
      tracked = stats?.agentsTracked ?? tracked;
      if (tracked < AGENTS) await new Promise((r) => setTimeout(r, 100));
    }
    const allOnline = performance.now();
    for (const timer of beating) clearInterval(timer);
    const cpu = Object.fromEntries(Object.entries(samplers).map(([name, s]) => [name, s.stop().cpuPercent]));

    const sortedEnroll = enrollTimes.sort((a, b) => a - b);
    const sortedConnect = connectTimes.sort((a, b) => a - b);
    const result = {
      agents: AGENTS,
      enrolled: enrolled.length,
      tracked,
      attemptsPerAgent: attempts.n / AGENTS,
      secondsToAllEnrolled: (allEnrolled - started) / 1000,
      enrollPerSecond: AGENTS / ((allEnrolled - started) / 1000),
      enrollP50Ms: quantile(sortedEnroll, 0.5),
      enrollP99Ms: quantile(sortedEnroll, 0.99),
      secondsToAllConnected: (allConnected - allEnrolled) / 1000,
      connectP50Ms: quantile(sortedConnect, 0.5),
      connectP99Ms: quantile(sortedConnect, 0.99),
      secondsToAllOnline: (allOnline - started) / 1000,
      connectionsClosed: closed.n,
      closeReasons: [...closed.reasons],
      cpuPercent: cpu,
      loadavg: loadavg(),
    };
    console.log(JSON.stringify(result, null, 2));
    if (closed.n > 0) {
      const serverErrors = platform.nats
        .log()
        .split('\n')
        .filter((line) => /\[(ERR|WRN)\]/.test(line));
      process.stderr.write(
        `nats-server errors and warnings (${serverErrors.length}):\n${serverErrors.slice(0, 20).join('\n')}\n`,
      );
    }
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(
      join(RESULTS_DIR, `enroll-connect-storm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
      JSON.stringify(result, null, 2),
    );
  } finally {
    stopping = true;
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await platform.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
