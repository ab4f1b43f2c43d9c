import { INestMicroservice } from '@nestjs/common';
import { JSONCodec, NatsConnection, Subscription } from 'nats';
import {
  AgentRecord,
  AgentRefRequest,
  AgentIdentityRecord,
  EventEnvelope,
  EventKinds,
  Headers,
  LookupAgentsReply,
  LookupAgentsRequest,
  metricsMsgId,
  RpcRequestPacket,
  RpcResponsePacket,
  Streams,
  Subjects,
} from '@app/contracts';
import { loadConfig } from '@app/config';
import { EventPublisher, ensureEventsStream } from '@app/messaging';
import { Database, openDatabase } from '@app/persistence';
import { TestDatabase } from '@app/testing';
import { startIngestion } from '../src/app';
import { Clock } from '@app/clock';
import { IngestionConfig } from '../src/config';
import { IngestionDB, SampleRow } from '../src/database';
import { BatchToStore, MetricsRepository, StoreResult } from '../src/metrics/metrics.repository';

const json = JSONCodec<unknown>();

/**
 * A stand-in for the tokens service on the test nats-server: answers `tokens.agents.lookup` in the
 * NestJS envelope for the agents it enrolled, and revokes them with the real `events.agent.revoked`.
 * Who may publish on an agent's subject is the NATS server's business (operator mode, see the
 * hostile-client suite); these tests publish as any agent on an unsecured server.
 */
export class TestTokenService {
  private readonly known = new Map<string, AgentIdentityRecord>();
  private subscriptions: Subscription[] = [];

  constructor(private readonly nc: NatsConnection) {}

  async start(): Promise<this> {
    await ensureEventsStream(await this.nc.jetstreamManager());
    this.subscriptions = [
      this.nc.subscribe(Subjects.tokens.agents.lookup, {
        callback: (_, msg) => {
          const request = json.decode(msg.data) as RpcRequestPacket<LookupAgentsRequest>;
          const agents = request.data.agentIds.map((id) => this.known.get(id) ?? null);
          const reply: RpcResponsePacket<LookupAgentsReply> = { id: request.id, response: { agents } };
          msg.respond(json.encode(reply));
        },
      }),
    ];
    await this.nc.flush();
    return this;
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  /** Enrolls `agentId` in `environment`; returns the agent id. */
  issue(environment: string, agentId: string, organizationId = 'org-1'): string {
    this.known.set(agentId, {
      agentId,
      organizationId,
      environment,
      publicKey: `U${'A'.repeat(55)}`,
      revoked: false,
    });
    return agentId;
  }

  async revoke(agentId: string): Promise<void> {
    const agent = this.known.get(agentId);
    if (!agent) throw new Error('unknown test agent');
    agent.revoked = true;
    await new EventPublisher(this.nc).publish({
      kind: EventKinds.agentRevoked,
      organizationId: agent.organizationId,
      environment: agent.environment,
      agentId,
      data: {},
    });
  }
}

/**
 * A stand-in for provisioning's registry on the test nats-server: answers `fleet.agents.get` in the
 * NestJS envelope (NOT_FOUND for agents it was not told about), as the remote-write sink asks it.
 */
export class TestRegistry {
  private readonly agents = new Map<string, AgentRecord>();
  private subscription?: Subscription;

  constructor(private readonly nc: NatsConnection) {}

  async start(): Promise<this> {
    this.subscription = this.nc.subscribe(Subjects.fleet.get, {
      callback: (_, msg) => {
        const request = json.decode(msg.data) as RpcRequestPacket<AgentRefRequest>;
        const agent = this.agents.get(`${request.data.organizationId}/${request.data.agentId}`);
        const reply: RpcResponsePacket<AgentRecord> = agent
          ? { id: request.id, response: agent }
          : { id: request.id, err: { code: 'NOT_FOUND', message: 'agent not found' } };
        msg.respond(json.encode(reply));
      },
    });
    await this.nc.flush();
    return this;
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  register(
    organizationId: string,
    environment: string,
    agentId: string,
    facts: Partial<AgentRecord> = {},
  ): void {
    this.agents.set(`${organizationId}/${agentId}`, {
      id: agentId,
      organizationId,
      environment,
      type: 'server',
      hostname: `${agentId}.local`,
      hostId: agentId,
      os: 'linux',
      version: '1.0.0',
      status: 'online',
      labels: {},
      firstSeenAt: new Date().toISOString(),
      lastSeenAt: null,
      revokedAt: null,
      ...facts,
    });
  }
}

export function ingestionConfig(
  natsUrl: string,
  database: TestDatabase,
  env: Record<string, string> = {},
): IngestionConfig {
  return loadConfig(IngestionConfig, {
    NATS_URL: natsUrl,
    ...database.env,
    LOG_LEVEL: 'silent',
    METRICS_PORT: '0',
    LAST_SEEN_FLUSH_SECONDS: '0.1',
    RPC_TIMEOUT_MS: '2000',
    ...env,
  });
}

export function startTestIngestion(config: IngestionConfig, clock?: Clock): Promise<INestMicroservice> {
  return startIngestion(config, { clock });
}

export function heartbeatBody(agentId: string, intervalSeconds = 10) {
  return {
    agentId,
    sentAt: Date.now(),
    agentType: 'server',
    agentVersion: '1.0.0',
    uptimeSeconds: 5,
    intervalSeconds,
    state: 'running',
    host: { hostname: `${agentId}.local`, hostId: agentId, os: 'linux' },
    buffered: 0,
    dropped: 0,
  };
}

/** Publishes on the agent's own subject, as the agent does (NATS decides who may). */
export function publishHeartbeat(
  nc: NatsConnection,
  environment: string,
  agentId: string,
  intervalSeconds = 10,
): void {
  nc.publish(Subjects.heartbeat(environment, agentId), json.encode(heartbeatBody(agentId, intervalSeconds)));
}

/** A day ago: test batches are a second apart from here, inside the window of timestamps ingestion accepts. */
const METRICS_EPOCH = Date.now() - 86_400_000;

export function metricsBody(agentId: string, seq: number, samples = 3) {
  return {
    agentId,
    seq,
    collectedAt: METRICS_EPOCH + seq * 1000,
    samples: Array.from({ length: samples }, (_, i) => ({
      name: 'cpu.usage',
      value: seq + i / 10,
      unit: 'percent',
      tags: { core: String(i) },
    })),
  };
}

/** Publishes like the agent does: JetStream on its own subject, msgID `<agentId>:<seq>`. */
export async function publishMetrics(
  nc: NatsConnection,
  environment: string,
  agentId: string,
  seq: number,
  options: { body?: unknown; msgID?: string; samples?: number } = {},
): Promise<void> {
  const body = options.body ?? metricsBody(agentId, seq, options.samples);
  const data = typeof body === 'string' ? new TextEncoder().encode(body) : json.encode(body);
  await nc.jetstream().publish(Subjects.metrics(environment, agentId), data, {
    msgID: options.msgID ?? metricsMsgId(agentId, seq),
  });
}

/** A second connection to the service's database, as an operator would look at it. */
export function openIngestionDatabase(database: TestDatabase): Promise<Database<IngestionDB>> {
  return openDatabase<IngestionDB>(database.options);
}

/** Rows of metric_batches, or stored samples: the sample counts of the chunks that hold them. */
export async function countRows(
  database: Database<IngestionDB>,
  table: 'samples' | 'metric_batches',
): Promise<number> {
  if (table === 'samples') {
    const row = await database.db
      .selectFrom('metric_chunks')
      .select((eb) => eb.fn.sum<number>('sample_count').as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n ?? 0);
  }
  const row = await database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface ParkedMessage {
  subject: string;
  reason: string;
  originalSubject: string;
  detail: string;
}

/** Everything on the dead-letter stream so far. */
export async function readDeadLetters(nc: NatsConnection): Promise<ParkedMessage[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(Streams.deadLetter).catch(() => undefined);
  const out: ParkedMessage[] = [];
  if (!info) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(Streams.deadLetter, { seq }).catch(() => undefined);
    if (!m) continue;
    out.push({
      subject: m.subject,
      reason: m.header.get(Headers.deadLetterReason),
      originalSubject: m.header.get(Headers.deadLetterSubject),
      detail: m.header.get(Headers.deadLetterDetail),
    });
  }
  return out;
}

/** Collects every liveness event published (core subscription: sees each publish, duplicates included). */
export function recordLivenessEvents(nc: NatsConnection): { events: EventEnvelope[]; stop: () => void } {
  const events: EventEnvelope[] = [];
  const subs = [EventKinds.agentOnline, EventKinds.agentOffline].map((kind) =>
    nc.subscribe(Subjects.event(kind), {
      callback: (_, msg) => events.push(json.decode(msg.data) as EventEnvelope),
    }),
  );
  return { events, stop: () => subs.forEach((s) => s.unsubscribe()) };
}

/**
 * Batches written as rows of the pre-0005 `samples` table (tags as canonical text), which is how the
 * storage specs state their expectations, as the message bodies the repository takes.
 */
export function rowsToBodies(
  batches: { agentId: string; seq: number; samples: SampleRow[] }[],
  now: number,
): BatchToStore[] {
  return batches.map((b) => ({
    agentId: b.agentId,
    seq: b.seq,
    collectedAt: b.samples[0]?.ts ?? now,
    samples: b.samples.map((s) => ({
      name: s.name,
      value: s.value,
      ts: s.ts,
      tags: JSON.parse(s.tags) as Record<string, string>,
      ...(s.unit === null ? {} : { unit: s.unit }),
    })),
  }));
}

/** Stores such rows through the repository, one batch per message body. */
export function storeRows(
  repository: MetricsRepository,
  batches: { agentId: string; seq: number; samples: SampleRow[] }[],
  now: number,
): Promise<StoreResult> {
  return repository.storeBatches(rowsToBodies(batches, now), now);
}
