import { EnrollReply, EnrollRequest, Headers, Subjects } from '@app/contracts';
import { TestAgentKey } from '@app/testing';
// The real services in-process: tokens, provisioning, ingestion and this gateway.
import { Platform, startPlatform } from '../../../provisioning/test/platform';

interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  errors?: { field: string; reason: string }[];
}

/** Errors a client can act on: the status says what failed, every field is named as the API spells it. */
describe('HTTP API errors', () => {
  let platform: Platform;
  let key: string;
  let agentId: string;

  const call = async (
    method: string,
    path: string,
    body?: string,
    contentType: string | null = 'application/json',
  ) => {
    const response = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(contentType ? { 'Content-Type': contentType } : {}) },
      body,
    });
    return { status: response.status, body: (await response.json()) as ErrorBody };
  };
  const post = (path: string, body: unknown) => call('POST', path, JSON.stringify(body));
  const fields = (body: ErrorBody) => (body.errors ?? []).map((e) => e.field);

  beforeAll(async () => {
    platform = await startPlatform('sqlite');
    key = (await platform.createOrganization('errors')).apiKey.secret;
    const provisioned = await post('/api/v1/agent/provision', {
      agent_type: 'server',
      environment_name: 'errors-1',
    });
    const token = (provisioned.body as unknown as { enrollment_token: string }).enrollment_token;
    const reply = await platform.rpc.request<EnrollReply, EnrollRequest>(
      Subjects.enroll,
      {
        agentType: 'server',
        agentVersion: '0.1.0',
        host: { hostname: 'vm', hostId: 'host-errors', os: 'linux' },
        identity: new TestAgentKey().claim('host-errors'),
      },
      { headers: { [Headers.enrollmentToken]: token } },
    );
    agentId = reply.agentId;
  }, 60_000);

  afterAll(() => platform?.stop());

  it('a JSON body sent without Content-Type: application/json is a 415 that says so', async () => {
    const body = JSON.stringify({ agent_type: 'server', environment_name: 'prod-1' });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', null]) {
      const refused = await call('POST', '/api/v1/agent/provision', body, contentType);
      expect(refused.status).toBe(415);
      expect(refused.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(refused.body.message).toContain('application/json');
      expect(refused.body.errors).toBeUndefined();
    }
    const accepted = await call('POST', '/api/v1/agent/provision', body, 'application/json; charset=utf-8');
    expect(accepted.status).toBe(201);
  });

  it('a missing field is "required", once, under its snake_case name', async () => {
    const missing = await post('/api/v1/agent/provision', {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      { field: 'agent_type', reason: 'required' },
      { field: 'environment_name', reason: 'required' },
    ]);
  });

  it('a service’s own refusal names the field as the API spells it (expires_at, not expiresAt)', async () => {
    const past = '2001-01-01T00:00:00Z';
    const requests: [string, object][] = [
      ['/api/v1/agent/provision', { agent_type: 'server', environment_name: 'errors-1', expires_at: past }],
      ['/api/v1/environments/errors-1/tokens', { expires_at: past }],
    ];
    for (const [path, body] of requests) {
      const refused = await post(path, body);
      expect(refused.status).toBe(400);
      expect(fields(refused.body)).toEqual(['expires_at']);
      expect(refused.body.message).not.toMatch(/[a-z][A-Z]/);
    }
  });

  it('a metrics step out of range names `step`, the query parameter', async () => {
    for (const query of ['step=0', 'step=99999', 'step=1&from=0']) {
      const refused = await call('GET', `/api/v1/agents/${agentId}/metrics?name=system.cpu.usage&${query}`);
      expect(refused.status).toBe(400);
      expect(fields(refused.body)).toEqual(['step']);
    }
  });

  it('a misspelt metric name is a 404 naming it and listing what the agent reports', async () => {
    const unknown = await call('GET', `/api/v1/agents/${agentId}/metrics?name=system.cpu.usgae`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    expect(unknown.body.message).toContain('"system.cpu.usgae"');
    expect(unknown.body.message).toContain('system.cpu.usage');
    expect(fields(unknown.body)).toEqual(['name']);

    // A declared metric the agent has not sent yet is an empty series, not an error.
    const declared = await call('GET', `/api/v1/agents/${agentId}/metrics?name=system.cpu.usage`);
    expect(declared.status).toBe(200);
  });

  it('issuing a token for a new environment creates it visibly: listed, audited, counted', async () => {
    const issued = await post('/api/v1/environments/made-by-token/tokens', { name: 'direct' });
    expect(issued.status).toBe(201);
    const environments = (await call('GET', '/api/v1/environments')).body as unknown as { name: string }[];
    expect(environments.map((e) => e.name)).toContain('made-by-token');
    const audit = (await call('GET', '/api/v1/audit?action=environment.created')).body as unknown as {
      items: { target_id: string }[];
    };
    expect(audit.items.map((e) => e.target_id)).toContain('made-by-token');

    const token = (issued.body as unknown as { secret: string }).secret;
    await platform.rpc.request<EnrollReply, EnrollRequest>(
      Subjects.enroll,
      {
        agentType: 'server',
        agentVersion: '0.1.0',
        host: { hostname: 'vm', hostId: 'host-made-by-token', os: 'linux' },
        identity: new TestAgentKey().claim('host-made-by-token'),
      },
      { headers: { [Headers.enrollmentToken]: token } },
    );
    const summary = (await call('GET', '/api/v1/fleet/summary')).body as unknown as {
      total: number;
      by_environment: { environment: string; count: number }[];
    };
    expect(summary.by_environment.reduce((sum, e) => sum + e.count, 0)).toBe(summary.total);
    expect(summary.by_environment.map((e) => e.environment)).toContain('made-by-token');
  });

  it('any other route under an environment the organisation does not have is a 404', async () => {
    const missing = await call('GET', '/api/v1/environments/no-such-env/tokens');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain('no-such-env');
    expect((await call('DELETE', '/api/v1/environments/no-such-env/tokens/x')).status).toBe(404);
    const environments = (await call('GET', '/api/v1/environments')).body as unknown as { name: string }[];
    expect(environments.map((e) => e.name)).not.toContain('no-such-env');
  });

  it('warns in the provision answer when the commands carry loopback URLs a container or pod cannot reach', async () => {
    // The test platform's NATS is on 127.0.0.1, as npm start's is by default.
    const docker = await post('/api/v1/agent/provision', {
      agent_type: 'docker',
      environment_name: 'errors-1',
    });
    expect(docker.status).toBe(201);
    const dockerBody = docker.body as unknown as { command: string; warnings: string[] };
    expect(dockerBody.command).toContain('--network host');
    expect(dockerBody.warnings.join(' ')).toContain('set PUBLIC_URL and AGENT_NATS_URL');
    const helm = await post('/api/v1/agent/provision', {
      agent_type: 'kubernetes',
      environment_name: 'errors-1',
    });
    expect((helm.body as unknown as { warnings: string[] }).warnings.join(' ')).toMatch(
      /pod cannot reach.*Set PUBLIC_URL and AGENT_NATS_URL/,
    );
  });
});
