/**
 * One publisher process of bench/metrics-fleet.ts: simulated agents [FROM, TO) of a fleet of AGENTS,
 * each publishing one 20-sample JetStream batch every INTERVAL_MS, agent i at offset i / AGENTS of the
 * interval (a real fleet's start times spread the same way). Its m-th batch here (seq FIRST_SEQ + m) is
 * due at START + m × INTERVAL_MS + offset(i); the bench measures lag from that due time, so a publisher that
 * runs late makes the figures worse, never better. Publishes as the agent does (JetStream, msgID
 * `<agentId>:<seq>`, waiting for the PubAck), or with ACKS=0 as core NATS messages carrying the same
 * Nats-Msg-Id (the stream captures and dedupes them alike; no ack comes back). Prints one JSON line when done.
 *
 * Run by the bench (`node -r @swc-node/register bench/lib/metrics-publisher.ts`), configured by env.
 */
import { connect, credsAuthenticator, headers as natsHeaders, JetStreamClient, JSONCodec } from 'nats';
import { readFileSync } from 'node:fs';
import { Headers, metricsMsgId, PROTOCOL_VERSION, Subjects } from '@app/contracts';
import { metricsBody } from '../../apps/ingestion/test/ingestion-fixtures';
import { fleetAgentId } from './agent-fleet';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const TICK_MS = 5;

const json = JSONCodec<unknown>();

export interface PublisherReport {
  published: number;
  failed: number;
  firstError?: string;
  /** How late the latest publish was against its due time (the publisher's own lag). */
  maxLatenessMs: number;
  cpuSeconds: number;
}

export const dueAt = (start: number, interval: number, agents: number, index: number, k: number) =>
  start + k * interval + Math.floor((index * interval) / agents);

async function main(): Promise<void> {
  const AGENTS = Number(env('AGENTS'));
  const FROM = Number(env('FROM'));
  const TO = Number(env('TO'));
  const INTERVAL_MS = Number(env('INTERVAL_MS'));
  const START = Number(env('START'));
  const BATCHES_PER_AGENT = Number(env('BATCHES_PER_AGENT'));
  /** Seq of each agent's first batch here (the bench published the warm-up batches before). */
  const FIRST_SEQ = Number(env('FIRST_SEQ'));
  const ENVIRONMENT = env('ENVIRONMENT');
  const SAMPLES = Number(env('SAMPLES'));
  /** 0: core NATS publishes (no PubAck to wait for), for fleets whose ack tracking this machine cannot simulate. */
  const ACKS = env('ACKS') !== '0';
  const nc = await connect({
    servers: env('NATS_URL'),
    authenticator: credsAuthenticator(readFileSync(env('NATS_CREDS'))),
    tls: { caFile: env('NATS_CA_FILE') },
    inboxPrefix: `_INBOX_${env('NATS_USER')}`,
    name: `metrics-publisher-${FROM}`,
  });
  const js: JetStreamClient = nc.jetstream();
  const headers = natsHeaders();
  headers.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
  const ids = Array.from({ length: TO - FROM }, (_, j) => fleetAgentId(FROM + j));
  const report: PublisherReport = { published: 0, failed: 0, maxLatenessMs: 0, cpuSeconds: 0 };
  const inFlight = new Set<Promise<unknown>>();
  const total = (TO - FROM) * BATCHES_PER_AGENT;
  // Due order: interval by interval, agents in index order within one.
  for (let n = 0; n < total;) {
    const now = Date.now();
    for (; n < total; n++) {
      const m = Math.floor(n / (TO - FROM));
      const k = FIRST_SEQ + m;
      const j = n % (TO - FROM);
      const due = dueAt(START, INTERVAL_MS, AGENTS, FROM + j, m);
      if (due > now) break;
      report.maxLatenessMs = Math.max(report.maxLatenessMs, now - due);
      const id = ids[j];
      const body = { ...metricsBody(id, k, SAMPLES), collectedAt: now };
      const subject = Subjects.metrics(ENVIRONMENT, id);
      if (!ACKS) {
        // Into the stream all the same (it captures the subject; the header dedupes), without the ack round trip.
        const h = natsHeaders();
        h.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
        h.set('Nats-Msg-Id', metricsMsgId(id, k));
        nc.publish(subject, json.encode(body), { headers: h });
        report.published++;
        continue;
      }
      const publish = js
        .publish(subject, json.encode(body), {
          msgID: metricsMsgId(id, k),
          headers,
        })
        .then(
          () => report.published++,
          (error: unknown) => {
            // Counted apart: a publish whose ack timed out may still have been stored.
            report.failed++;
            report.firstError ??= String(error);
          },
        );
      inFlight.add(publish);
      void publish.finally(() => inFlight.delete(publish));
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await Promise.all(inFlight);
  await nc.drain();
  const cpu = process.cpuUsage();
  report.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (require.main === module)
  void main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
