import { JSONCodec } from 'nats';
import {
  AgentLivenessData,
  EnrollReply,
  EnrollRequest,
  EventEnvelope,
  EventKinds,
  Headers,
  Subjects,
} from '@app/contracts';
// The real services in-process: tokens, provisioning, ingestion and this gateway.
import { TestAgentKey } from '@app/testing';
import { Platform, startPlatform } from '../../../provisioning/test/platform';

const json = JSONCodec<EventEnvelope<AgentLivenessData>>();

interface Summary {
  total: number;
  by_status: Record<string, number>;
  by_type: { type: string; display_name: string; count: number }[];
  by_environment: { environment: string; count: number }[];
  recently_offline: { window_ms: number; agents: { agent_id: string; environment: string }[] } | null;
  ingestion: { consumer_lag: number; rejected_by_reason: Record<string, number> } | null;
  ingestion_error: string | null;
}

describe('GET /api/v1/fleet/summary', () => {
  let platform: Platform;
  let mine: { id: string; key: string };
  let theirs: { id: string; key: string };
  const agentIds: string[] = [];

  const http = async <T>(key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  /** Provisions `type` in `environment` over HTTP, then enrolls one host with the token, as an agent would. */
  const enroll = async (key: string, type: string, environment: string, hostname: string) => {
    const provisioned = await http<{ enrollment_token: string }>(key, 'POST', '/api/v1/agent/provision', {
      agent_type: type,
      environment_name: environment,
    });
    expect(provisioned.status).toBe(201);
    const reply = await platform.rpc.request<EnrollReply, EnrollRequest>(
      Subjects.enroll,
      {
        agentType: type,
        agentVersion: '0.1.0',
        host: { hostname, hostId: `host-${hostname}`, os: 'linux' },
        identity: new TestAgentKey().claim(`host-${hostname}`),
      },
      { headers: { [Headers.enrollmentToken]: provisioned.body.enrollment_token } },
    );
    agentIds.push(reply.agentId);
    return reply.agentId;
  };

  const publishOffline = async (organizationId: string, agentId: string, environment: string) => {
    const event: EventEnvelope<AgentLivenessData> = {
      id: `${agentId}:offline:test`,
      kind: EventKinds.agentOffline,
      occurredAt: new Date().toISOString(),
      organizationId,
      environment,
      agentId,
      data: { lastSeenAt: Date.now() - 30_000, silentForMs: 30_000 },
    };
    await (
      await platform.connectAs('ingestion')
    )
      .jetstream()
      .publish(Subjects.event(EventKinds.agentOffline), json.encode(event));
  };

  beforeAll(async () => {
    platform = await startPlatform('sqlite');
    const a = await platform.createOrganization('summary-mine');
    const b = await platform.createOrganization('summary-theirs');
    mine = { id: a.organization.id, key: a.apiKey.secret };
    theirs = { id: b.organization.id, key: b.apiKey.secret };
  }, 60_000);

  afterAll(() => platform?.stop());

  it('counts the caller’s agents by status, type and environment, and nobody else’s', async () => {
    const web1 = await enroll(mine.key, 'server', 'prod-1', 'web-1');
    await enroll(mine.key, 'server', 'prod-1', 'web-2');
    await enroll(mine.key, 'docker', 'edge-1', 'edge-host');
    await enroll(theirs.key, 'server', 'prod-1', 'their-host');
    expect((await http(mine.key, 'DELETE', `/api/v1/agents/${web1}`)).status).toBe(200);

    const { status, body } = await http<Summary>(mine.key, 'GET', '/api/v1/fleet/summary');
    expect(status).toBe(200);
    expect(body.total).toBe(3);
    expect(body.by_status).toEqual({
      pending: 2,
      online: 0,
      degraded: 0,
      offline: 0,
      stopped: 0,
      revoked: 1,
    });
    expect(Object.fromEntries(body.by_type.map((t) => [t.type, t.count]))).toEqual({
      server: 2,
      docker: 1,
      kubernetes: 0,
      ssh: 0,
      nomad: 0,
      aci: 0,
      lambda: 0,
      'cloud-run': 0,
    });
    expect(Object.fromEntries(body.by_environment.map((e) => [e.environment, e.count]))).toEqual({
      'prod-1': 2,
      'edge-1': 1,
    });
    expect(body.ingestion).not.toBeNull();
    expect(body.ingestion_error).toBeNull();
  });

  it('lists the agents that went offline in the last hour from the EVENTS stream, for the caller only', async () => {
    const [mineAgent] = agentIds;
    const theirAgent = agentIds[3];
    await publishOffline(theirs.id, theirAgent, 'prod-1');
    await publishOffline(mine.id, mineAgent, 'prod-1');

    const { body } = await http<Summary>(mine.key, 'GET', '/api/v1/fleet/summary');
    expect(body.recently_offline?.window_ms).toBe(3_600_000);
    expect(body.recently_offline?.agents.map((a) => a.agent_id)).toEqual([mineAgent]);
  });

  it('refuses a caller without a valid key before asking any service', async () => {
    const { status, body } = await http<{ code: string }>('rca_ak_notAKey', 'GET', '/api/v1/fleet/summary');
    expect(status).toBe(401);
    expect(body.code).toMatch(/^TOKEN_|UNAUTHENTICATED/);
  });
});
