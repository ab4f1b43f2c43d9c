/**
 * Heartbeats/s handled by ingestion next to raw nats.js pub→sub of the same payload, same run.
 *
 *   node -r @swc-node/register bench/ingestion-heartbeats.ts
 *   HEARTBEAT_BENCH_SECURED=1 node -r @swc-node/register bench/ingestion-heartbeats.ts   # operator mode + TLS
 *
 * Loopback only, one nats-server of its own, bounded to well under 2 minutes. Publishers and the
 * consumer (raw subscriber or ingestion) share this process and its 2 cores in both runs.
 * Writes bench/results/ingestion-heartbeats-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { connect, headers as natsHeaders, JSONCodec, MsgHdrs, NatsConnection } from 'nats';
import { Headers, Subjects } from '@app/contracts';
import { createTestDatabase, startNatsServer } from '@app/testing';
import { checkHeartbeat } from '../apps/ingestion/src/wire/agent-message-checks';
import { IngestionMetrics } from '../apps/ingestion/src/observability/ingestion-metrics';
import { Heartbeat, validateDto } from '@app/contracts';
import {
  heartbeatBody,
  ingestionConfig,
  startTestIngestion,
  TestTokenService,
} from '../apps/ingestion/test/ingestion-fixtures';

/** Distinct agent ids (subjects, bodies). */
const AGENTS = 10_000;
/** Publishing connections the agents are spread over. */
const CONNECTIONS = 4;
/** Heartbeats per measured run: a few seconds at the rates this machine reaches. */
const MESSAGES = 300_000;
/** Publish this many per connection, then wait for the server's PONG: bounded publisher lead. */
const FLUSH_EVERY = 2_000;
const STALL_MS = 5_000;
/** Agents whose first heartbeat (and directory lookup) is sent at once during warm-up. */
const WARM_UP_WAVE = 1_000;

const json = JSONCodec<unknown>();

interface Agent {
  subject: string;
  headers: MsgHdrs;
  body: Uint8Array;
}

function makeAgents(enroll: (agentId: string) => void = () => undefined): Agent[] {
  return Array.from({ length: AGENTS }, (_, i) => {
    const agentId = `hb-${String(i).padStart(6, '0')}`;
    enroll(agentId);
    const headers = natsHeaders();
    headers.set(Headers.protocolVersion, '1');
    return {
      subject: Subjects.heartbeat('bench', agentId),
      headers,
      body: json.encode(heartbeatBody(agentId, 10)),
    };
  });
}

/** Publishes `count` heartbeats round-robin over agents and connections; returns when all are flushed. */
async function publishAll(publishers: NatsConnection[], agents: Agent[], count: number): Promise<void> {
  const perConnection = Math.ceil(count / publishers.length);
  await Promise.all(
    publishers.map(async (nc, c) => {
      for (let i = 0; i < perConnection; i++) {
        const agent = agents[(i * publishers.length + c) % agents.length];
        nc.publish(agent.subject, agent.body, { headers: agent.headers });
        if (i % FLUSH_EVERY === FLUSH_EVERY - 1) await nc.flush();
      }
      await nc.flush();
    }),
  );
}

/** Polls until `target` or a stall; returns the count and when it last grew (so a stall is not timed). */
async function waitForCount(
  what: string,
  count: () => Promise<number> | number,
  target: number,
): Promise<{ n: number; at: bigint }> {
  let last = -1;
  let at = process.hrtime.bigint();
  for (;;) {
    const n = await count();
    if (n !== last) {
      last = n;
      at = process.hrtime.bigint();
    }
    if (n >= target) return { n, at };
    if (Number(process.hrtime.bigint() - at) / 1e6 > STALL_MS) {
      process.stderr.write(`${what}: stalled at ${n}/${target}\n`);
      return { n, at };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** How the bench connects: anonymously, or (secured) as a user allowed everything, over TLS. */
let open: () => Promise<NatsConnection>;

async function rawBaseline(): Promise<{ perSecond: number; received: number }> {
  const publishers = await Promise.all(Array.from({ length: CONNECTIONS }, () => open()));
  const consumer = await open();
  let received = 0;
  consumer.subscribe(Subjects.heartbeatWildcard, {
    queue: 'baseline',
    callback: (_, msg) => {
      // The same minimum any consumer does: read the header and parse the body.
      msg.headers?.get(Headers.protocolVersion);
      JSON.parse(Buffer.from(msg.data).toString('utf8'));
      received++;
    },
  });
  await consumer.flush();
  const agents = makeAgents();
  const started = process.hrtime.bigint();
  await publishAll(publishers, agents, MESSAGES);
  const got = await waitForCount('baseline', () => received, MESSAGES);
  const seconds = Number(got.at - started) / 1e9;
  await Promise.all([...publishers, consumer].map((c) => c.close()));
  return { perSecond: got.n / seconds, received: got.n };
}

async function ingestion(
  url: string,
  busEnv: Record<string, string>,
): Promise<{ perSecond: number; accepted: number; rejected: Record<string, number> }> {
  const control = await open();
  const tokens = await new TestTokenService(control).start();
  const database = await createTestDatabase('sqlite', 'ingestion');
  const app = await startTestIngestion(
    ingestionConfig(url, database, { LAST_SEEN_FLUSH_SECONDS: '5', ...busEnv }),
  );
  const metrics = app.get(IngestionMetrics);
  const publishers = await Promise.all(Array.from({ length: CONNECTIONS }, () => open()));
  try {
    const agents = makeAgents((agentId) => tokens.issue('bench', agentId));
    // Warm-up: one heartbeat per agent, so each agent is looked up once (batched) and cached;
    // in waves, as a real fleet's heartbeats are spread over their interval.
    for (let from = 0; from < AGENTS; from += WARM_UP_WAVE) {
      await publishAll(publishers, agents.slice(from, from + WARM_UP_WAVE), WARM_UP_WAVE);
      await waitForCount(
        'warm-up',
        () => metrics.total(metrics.accepted, { kind: 'heartbeat' }),
        from + WARM_UP_WAVE,
      );
    }

    const before = await metrics.total(metrics.accepted, { kind: 'heartbeat' });
    const started = process.hrtime.bigint();
    await publishAll(publishers, agents, MESSAGES);
    const done = await waitForCount(
      'ingestion',
      async () => (await metrics.total(metrics.accepted, { kind: 'heartbeat' })) - before,
      MESSAGES,
    );
    const accepted = done.n;
    const seconds = Number(done.at - started) / 1e9;
    const rejected = await metrics.rejectedByReason();
    return { perSecond: accepted / seconds, accepted, rejected };
  } finally {
    await Promise.all(publishers.map((c) => c.close()));
    await app.close();
    tokens.stop();
    await control.close();
    await database.cleanup();
  }
}

/** Per-message cost of the body check: class-validator DTO vs the hand-rolled check ingestion uses. */
function validationCost(): { classValidatorMicros: number; handRolledMicros: number } {
  const raw = JSON.stringify(heartbeatBody('hb-000001', 10));
  const time = (n: number, f: () => void) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    return Number(process.hrtime.bigint() - t) / n / 1000;
  };
  time(20_000, () => validateDto(Heartbeat, JSON.parse(raw)));
  time(200_000, () => checkHeartbeat(JSON.parse(raw)));
  return {
    classValidatorMicros: time(20_000, () => validateDto(Heartbeat, JSON.parse(raw))),
    handRolledMicros: time(200_000, () => checkHeartbeat(JSON.parse(raw))),
  };
}

async function main() {
  const secured = process.env.HEARTBEAT_BENCH_SECURED === '1';
  const server = await startNatsServer({ secured });
  const bus = server.bus;
  open = bus ? () => bus.connectWith('bench', ['>'], ['>']) : () => connect({ servers: server.url });
  const busEnv: Record<string, string> = bus
    ? { NATS_CREDS: bus.credsFile('ingestion'), NATS_CA_FILE: bus.caFile }
    : {};
  try {
    const validation = validationCost();
    const baseline = await rawBaseline();
    const handled = await ingestion(server.url, busEnv);
    const rows = [
      ['raw nats.js pub→sub (parse only)', Math.round(baseline.perSecond), baseline.received],
      ['ingestion (identity + check + last-seen)', Math.round(handled.perSecond), handled.accepted],
    ];
    console.log(
      `\nload average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (2 cores)`,
    );
    console.log(
      `Heartbeats: ${MESSAGES} messages, ${AGENTS} agents, ${CONNECTIONS} publishing connections, ` +
        `${secured ? 'operator mode + TLS' : 'anonymous plain TCP'}\n`,
    );
    console.log('| path | heartbeats/s | handled |');
    console.log('|---|---:|---:|');
    for (const [name, rate, n] of rows) console.log(`| ${name} | ${rate} | ${n} |`);
    console.log(
      `\nbody check per message: class-validator ${validation.classValidatorMicros.toFixed(1)} µs, ` +
        `hand-rolled ${validation.handRolledMicros.toFixed(2)} µs; rejected: ${JSON.stringify(handled.rejected)}`,
    );
    const results = join(__dirname, 'results');
    mkdirSync(results, { recursive: true });
    const file = join(results, `ingestion-heartbeats-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          messages: MESSAGES,
          agents: AGENTS,
          connections: CONNECTIONS,
          loadAverage: loadavg(),
          baseline,
          ingestion: handled,
          validation,
        },
        null,
        2,
      ),
    );
    console.log(`\nwrote ${file}`);
  } finally {
    await server.dispose();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
