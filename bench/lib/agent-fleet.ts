import { connect, headers as natsHeaders, MsgHdrs, NatsConnection, StringCodec } from 'nats';
import { createUser } from 'nkeys.js';
import { Headers, IssuedAgentIdentity, PROTOCOL_VERSION, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { heartbeat } from './payloads';

export interface SimulatedAgent {
  agentId: string;
  environment: string;
  subject: string;
  headers: MsgHdrs;
}

/** Concurrent tokens.agents.issue requests while creating identities. */
const ISSUE_CONCURRENCY = 64;

/**
 * Agent identities straight from the token service (`tokens.agents.issue`, a fresh key each) — the
 * same identity rows enrollment creates, without the provisioning registry row, which ingestion never
 * reads. Used when enrolling through the intake would take longer than the scenario's time bound.
 * The simulated agents publish from the bench's own connections (allowed every agent subject).
 */
export async function issueAgentIdentities(
  rpc: RpcClient,
  organizationId: string,
  environment: string,
  fromIndex: number,
  count: number,
): Promise<SimulatedAgent[]> {
  const agents: SimulatedAgent[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const agentId = fleetAgentId(fromIndex + i);
      await rpc.request<IssuedAgentIdentity>(Subjects.tokens.agents.issue, {
        organizationId,
        environment,
        agentId,
        publicKey: createUser().getPublicKey(),
        name: agentId,
        actor: 'bench',
      });
      agents[i] = simulatedAgent(agentId, environment);
    }
  };
  await Promise.all(Array.from({ length: ISSUE_CONCURRENCY }, worker));
  return agents;
}

/** The id of the fleet's i-th simulated agent. */
export const fleetAgentId = (i: number) => `fleet-${String(i).padStart(7, '0')}`;

export function simulatedAgent(agentId: string, environment: string): SimulatedAgent {
  const headers = natsHeaders();
  headers.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
  return { agentId, environment, subject: Subjects.heartbeat(environment, agentId), headers };
}

const sc = StringCodec();

/**
 * Many agents over a few NATS connections, each agent heartbeating once per interval,
 * spread evenly over it (agent i sends in slot i mod SLOTS), as a real fleet's start
 * times would spread them. Ticks catch up when the event loop was late, so the offered
 * rate stays the configured one unless this process itself runs out of CPU.
 */
export class HeartbeatFleet {
  /** The interval is cut into this many slots: one tick every interval / SLOTS. */
  static readonly SLOTS = 100;
  private agents: SimulatedAgent[] = [];
  private connections: NatsConnection[] = [];
  private timer?: NodeJS.Timeout;
  private tick = 0;
  private startedAt = 0;
  published = 0;

  constructor(
    private readonly url: string,
    private readonly connectionCount: number,
    private readonly intervalMs = 10_000,
  ) {}

  async connect(): Promise<void> {
    for (let i = 0; i < this.connectionCount; i++) {
      this.connections.push(await connect({ servers: this.url, name: `bench-fleet-${i}` }));
    }
  }

  setAgents(agents: SimulatedAgent[]): void {
    this.agents = agents;
  }

  get size(): number {
    return this.agents.length;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    this.startedAt = performance.now();
    this.tick = 0;
    const slotMs = this.intervalMs / HeartbeatFleet.SLOTS;
    this.timer = setInterval(() => {
      const due = Math.floor((performance.now() - this.startedAt) / slotMs);
      while (this.tick <= due) this.publishSlot(this.tick++ % HeartbeatFleet.SLOTS);
    }, slotMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private publishSlot(slot: number): void {
    const now = Date.now();
    for (let i = slot; i < this.agents.length; i += HeartbeatFleet.SLOTS) {
      const agent = this.agents[i];
      const nc = this.connections[i % this.connections.length];
      nc.publish(agent.subject, sc.encode(JSON.stringify(heartbeat(agent.agentId, now))), {
        headers: agent.headers,
      });
      this.published++;
    }
  }

  async flush(): Promise<void> {
    await Promise.all(this.connections.map((nc) => nc.flush()));
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.connections.map((nc) => nc.close()));
  }
}
