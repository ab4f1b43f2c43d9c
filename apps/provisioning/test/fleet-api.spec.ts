import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import {
  AgentRecord,
  Consumers,
  DomainError,
  EnrollReply,
  EnrollRequest,
  EventKinds,
  Headers,
  Heartbeat,
  MAX_SAMPLES_PER_BATCH,
  Streams,
  Subjects,
  LookupAgentsReply,
} from '@app/contracts';
import { EventPublisher } from '@app/messaging';
import { JSONCodec } from 'nats';
import { decode } from 'nats-jwt';
import { certificatePin } from '@app/nats-auth';
import { agentCommand, storedEvents, TestAgentKey, testEngines, waitFor } from '@app/testing';
import {
  AGENT_BUILD,
  AGENT_IMAGE,
  DEPLOY_DIR,
  Platform,
  PUBLIC_URL,
  REPO_ROOT,
  startPlatform,
} from './platform';

// Response bodies are asserted field by field (toMatchObject, toEqual): their static type adds nothing here.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs a generated sh command with docker/helm/curl/sudo replaced by functions that print their arguments. */
function argumentsSeenBySh(command: string): string[][] {
  const script = [
    'show() { printf "%s\\0" "$@"; printf "\\1"; }',
    'docker() { show docker "$@"; }',
    'helm() { show helm "$@"; }',
    'curl() { :; }',
    // What sudo reads on stdin (install.sh's --token-file -) is shown as a call of its own: stdin <data>.
    'sudo() { show sudo "$@"; show stdin "$(cat)"; }',
    command,
  ].join('\n');
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
  return out
    .split('\x01')
    .filter((call) => call.length > 0)
    .map((call) => call.split('\0').slice(0, -1));
}

const words = (command: string) => parse(command).filter((w): w is string => typeof w === 'string');

/** Drops install.sh's own flags and their values: the rest are the agent's (docs/deploy-contract.md). */
function withoutInstallOnlyFlags(args: string[]): string[] {
  const installOnly = new Set(['--bundle-sha256', '--binary-sha256', '--token-file']);
  return args.filter((arg, i) => !installOnly.has(arg) && !installOnly.has(args[i - 1]));
}

describe.each(testEngines())('fleet HTTP API on %s', (engine) => {
  let platform: Platform;
  let api: request.Agent;
  let keyA: string;
  let keyB: string;
  let orgA: string;
  let natsUrl: string;

  beforeAll(async () => {
    platform = await startPlatform(engine, { provisioningEnv: { ENROLL_RATE_PER_MINUTE: '20' } });
    api = request.agent(platform.baseUrl);
    natsUrl = platform.nats.url;
    const a = await platform.createOrganization('acme');
    const b = await platform.createOrganization('globex');
    keyA = a.apiKey.secret;
    keyB = b.apiKey.secret;
    orgA = a.organization.id;
  });
  afterAll(() => platform?.stop());

  const provision = (key: string, body: unknown) =>
    api
      .post('/api/v1/agent/provision')
      .set('authorization', `Bearer ${key}`)
      .send(body as object);
  const get = (key: string, path: string) => api.get(path).set('authorization', `Bearer ${key}`);
  /** Each enrolled agent's key, to sign its intake requests. */
  const keys = new Map<string, TestAgentKey>();
  /** Enrolls as the gateway's intake does; a fresh agent key unless the body brings its own claim. */
  const enroll = async (
    token: string,
    body: Omit<EnrollRequest, 'identity'> & Partial<EnrollRequest>,
    key = new TestAgentKey(),
  ) => {
    const request: EnrollRequest = { identity: key.claim(body.host.hostId), ...body };
    const reply = await platform.rpc.request<EnrollReply, EnrollRequest>(Subjects.enroll, request, {
      headers: { [Headers.enrollmentToken]: token },
    });
    keys.set(reply.agentId, key);
    return reply;
  };
  const lookup = async (agentId: string) =>
    (await platform.rpc.request<LookupAgentsReply>(Subjects.tokens.agents.lookup, { agentIds: [agentId] }))
      .agents[0];
  /** A signed intake request of the agent. */
  const intakeAs = (agentId: string, route: 'heartbeat' | 'metrics', body: object) => {
    const text = JSON.stringify(body);
    return api
      .post(`/api/v1/intake/${route}`)
      .set(keys.get(agentId)!.signedHeaders(agentId, route, text))
      .send(text);
  };
  const host = (hostId: string, hostname = `host-${hostId}`) => ({ hostname, hostId, os: 'linux' });
  const heartbeatOf = (agentId: string): Heartbeat => ({
    agentId,
    sentAt: Date.now(),
    agentType: 'server',
    agentVersion: '0.2.0',
    uptimeSeconds: 5,
    intervalSeconds: 10,
    state: 'running',
    host: host('machine-1', 'web-1.example'),
    buffered: 0,
    dropped: 0,
  });

  it('lists the agent types with their config schemas', async () => {
    const res = await get(keyA, '/api/v1/agent/types').expect(200);
    const types = (res.body as Json[]).map((t) => t.type);
    expect(types).toEqual(['aci', 'cloud-run', 'docker', 'kubernetes', 'lambda', 'nomad', 'server', 'ssh']);
    const kubernetes = (res.body as Json[]).find((t) => t.type === 'kubernetes')!;
    expect(kubernetes.config.map((f: Json) => f.name)).toEqual(
      expect.arrayContaining(['namespace', 'release_name', 'replicas', 'scope', 'log_level']),
    );
  });

  it.each([
    [
      'lambda',
      { function_name: 'checkout-api' },
      'aws lambda update-function-configuration --function-name checkout-api',
    ],
    [
      'cloud-run',
      { service: 'checkout' },
      'gcloud run services replace rca-agent-cloud-run.yaml --region europe-west1',
    ],
  ])(
    'provisions a %s agent: a command with its steps, carrying the token',
    async (type, config, expected) => {
      const res = await provision(keyA, { agent_type: type, environment_name: 'prod-1', config }).expect(201);
      const body = res.body as Json;
      expect(body.command).toContain(expected);
      expect(body.command).toContain(body.enrollment_token);
      expect(body.instructions.length).toBeGreaterThan(3);
    },
  );

  it('refuses every route without a valid API key', async () => {
    await api.get('/api/v1/agents').expect(401);
    await provision('rca_ak_not-a-key', { agent_type: 'docker', environment_name: 'prod-1' }).expect(401);
  });

  it('provisions a docker agent whose command carries the token and every value exactly', async () => {
    const res = await provision(keyA, {
      agent_type: 'docker',
      environment_name: 'prod-1',
      config: { log_level: 'debug', docker_host: 'tcp://10.0.0.5:2375' },
    }).expect(201);
    const body = res.body as Json;
    expect(body).toMatchObject({ agent_type: 'docker', environment: 'prod-1' });
    // A wizard's token is not valid for ever: ENROLLMENT_TOKEN_TTL_HOURS, 24 h by default.
    const ttlHours = (Date.parse(body.expires_at as string) - Date.now()) / 3_600_000;
    expect(ttlHours).toBeGreaterThan(23.9);
    expect(ttlHours).toBeLessThanOrEqual(24);
    expect(body.enrollment_token).toMatch(/^rca_et_/);
    expect(body.token_id).toEqual(expect.any(String));
    expect(body.instructions.length).toBeGreaterThan(1);
    expect(body.commands).toEqual([{ platform: 'any', shell: 'sh', command: body.command }]);
    const argv = words(body.command);
    expect(argv.slice(0, 2)).toEqual(['docker', 'run']);
    expect(argv).toEqual(
      expect.arrayContaining([
        `RCA_TOKEN=${body.enrollment_token}`,
        `RCA_NATS_URL=${natsUrl}`,
        `RCA_PLATFORM_URL=${PUBLIC_URL}`,
        'RCA_AGENT_TYPE=docker',
        'RCA_LOG_LEVEL=debug',
        'RCA_DOCKER_HOST=tcp://10.0.0.5:2375',
      ]),
    );
    expect(argv[argv.length - 1]).toBe(AGENT_IMAGE);
  });

  it('provisions a kubernetes agent whose helm command sets the chart values exactly', async () => {
    const res = await provision(keyA, {
      agent_type: 'kubernetes',
      environment_name: 'k8s-prod',
      config: {
        namespace: 'monitoring',
        release_name: 'rca',
        replicas: 2,
        scope: 'namespace',
        log_level: 'warn',
      },
    }).expect(201);
    const body = res.body as Json;
    const argv = words(body.command);
    expect(argv.slice(0, 5)).toEqual(['helm', 'upgrade', '--install', 'rca', 'rca-agent']);
    expect(argv[argv.indexOf('--repo') + 1]).toBe(`${PUBLIC_URL}/charts`);
    expect(argv[argv.indexOf('--namespace') + 1]).toBe('monitoring');
    expect(argv).toEqual(
      expect.arrayContaining([
        `agent.token=${body.enrollment_token}`,
        `agent.natsUrl=${natsUrl}`,
        `agent.platformUrl=${PUBLIC_URL}`,
        'agent.environment=k8s-prod',
        'agent.logLevel=warn',
        'scope=namespace',
        'replicas=2',
        'image.repository=registry.example.test/rca/agent',
        'image.tag=1.2.3',
      ]),
    );
  });

  it('provisions a server agent with a command per operating system', async () => {
    const res = await provision(keyA, { agent_type: 'server', environment_name: 'prod-1' }).expect(201);
    const body = res.body as Json;
    expect((body.commands as Json[]).map((c) => c.platform)).toEqual(['linux', 'macos', 'windows']);
    expect(body.command).toBe(body.commands[0].command);
    const [sudo, stdin] = argumentsSeenBySh(body.command);
    // The token reaches install.sh on stdin, never as an argument of a process.
    expect(stdin).toEqual(['stdin', body.enrollment_token]);
    expect(sudo.join(' ')).not.toContain(body.enrollment_token);
    expect(sudo).toEqual([
      'sudo',
      'sh',
      sudo[2],
      '--token-file',
      '-',
      '--nats-url',
      natsUrl,
      '--platform-url',
      PUBLIC_URL,
      '--log-level',
      'info',
      // The platform CA's pin: the agent fetches the CA and trusts it only if it matches.
      '--ca-pin',
      certificatePin(readFileSync(platform.nats.bus!.caFile, 'utf8')),
      // What install.sh downloads must match these, pinned in the pasted command itself.
      '--bundle-sha256',
      createHash('sha256').update(AGENT_BUILD.bundle).digest('hex'),
      '--binary-sha256',
      createHash('sha256').update(AGENT_BUILD.binary).digest('hex'),
    ]);
    const windows = (body.commands as Json[]).find((c) => c.platform === 'windows')!;
    expect(windows.shell).toBe('powershell');
    expect(windows.command).toContain(`-Token '${body.enrollment_token}'`);
    expect(windows.command).toContain(`'${PUBLIC_URL}/install.ps1'`);
  });

  it('delivers a hostile config value to the program as one literal argument', async () => {
    const hostile = 'unix:///var/run/$(touch${IFS}/tmp/pwned)`id`;echo\'"x\\y|&>';
    const res = await provision(keyA, {
      agent_type: 'docker',
      environment_name: 'prod-1',
      config: { docker_host: hostile },
    }).expect(201);
    const calls = argumentsSeenBySh((res.body as Json).command);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain(`RCA_DOCKER_HOST=${hostile}`);
    expect(calls[0][calls[0].length - 1]).toBe(AGENT_IMAGE);
  });

  it('creates the environment on first provision and lists it', async () => {
    const res = await get(keyA, '/api/v1/environments').expect(200);
    expect((res.body as Json[]).map((e) => e.name)).toEqual(['k8s-prod', 'prod-1']);
    const other = await get(keyB, '/api/v1/environments').expect(200);
    expect(other.body).toEqual([]);
  });

  it('announces a change whose event JetStream refused, once it can take it (outbox)', async () => {
    // Only a stream's owner may change it: act as ingestion, which creates EVENTS.
    const jsm = await (await platform.connectAs('ingestion')).jetstreamManager();
    const config = (await jsm.streams.info(Streams.events)).config;
    /** environment.created events for `outbox-env` the EVENTS stream holds. */
    const stored = async () =>
      (await storedEvents(platform.nc, EventKinds.environmentCreated)).filter(
        (e) => e.environment === 'outbox-env',
      ).length;
    // EVENTS stops storing environment events: publishing one fails.
    await jsm.streams.update(Streams.events, { ...config, subjects: ['events.agent.>', 'events.token.>'] });
    try {
      await provision(keyA, { agent_type: 'docker', environment_name: 'outbox-env' }).expect(201);
      const audit = (await get(keyA, '/api/v1/audit?action=environment.created').expect(200)).body as Json;
      expect(audit.items.map((e: Json) => e.target_id)).toContain('outbox-env');
    } finally {
      await jsm.streams.update(Streams.events, config);
    }
    await waitFor('environment.created from the outbox', async () => (await stored()) > 0, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stored()).toBe(1);
  });

  it.each([
    ['an unknown agent type', { agent_type: 'mainframe', environment_name: 'prod-1' }, 'agent_type'],
    ['a bad environment name', { agent_type: 'docker', environment_name: 'Prod 1' }, 'environment_name'],
    [
      'a bad config value',
      { agent_type: 'kubernetes', environment_name: 'new-env', config: { namespace: 'Bad_NS' } },
      'config.namespace',
    ],
    [
      'an unknown config key',
      { agent_type: 'docker', environment_name: 'new-env', config: { colour: 'red' } },
      'config.colour',
    ],
    ['an unknown body field', { agent_type: 'docker', environment_name: 'new-env', extra: 1 }, 'extra'],
  ])('rejects %s with 400 naming the field and changes nothing', async (_what, body, field) => {
    // Token entries arrive from events, after earlier tests' changes: count what a provision itself writes.
    const audited = async () =>
      ((await get(keyA, '/api/v1/audit?action=agent.*').expect(200)).body as Json).total +
      ((await get(keyA, '/api/v1/audit?action=environment.*').expect(200)).body as Json).total;
    const auditBefore = await audited();
    const res = await provision(keyA, body).expect(400);
    expect(res.body.code).toMatch(/VALIDATION_FAILED|UNKNOWN_AGENT_TYPE/);
    expect((res.body.errors as Json[]).map((e) => e.field)).toContain(field);
    expect(await audited()).toBe(auditBefore);
    const environments = (await get(keyA, '/api/v1/environments').expect(200)).body as Json[];
    expect(environments.map((e) => e.name)).not.toContain('new-env');
  });

  it('enforces API key scopes per route: read keys only read, provision keys operate the fleet, admin keys do all', async () => {
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });
    const make = async (scope: string) => {
      const res = await api
        .post('/api/v1/api-keys')
        .set(auth(keyA))
        .send({ name: `${scope} key`, scope })
        .expect(201);
      expect(res.body.scope).toBe(scope);
      return res.body.secret as string;
    };
    const [reader, operator] = [await make('read'), await make('provision')];
    const listed = (await get(keyA, '/api/v1/api-keys').expect(200)).body as Json;
    expect((listed.api_keys as Json[]).map((k) => k.scope)).toEqual(
      expect.arrayContaining(['admin', 'read', 'provision']),
    );

    // Reading is for everyone.
    await get(reader, '/api/v1/agents').expect(200);
    await get(reader, '/api/v1/environments').expect(200);
    // A read key changes nothing: provisioning, tokens, agents, keys, alerting are 403 naming the scope needed.
    const refused = await provision(reader, { agent_type: 'server', environment_name: 'scoped' }).expect(403);
    expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
    expect(refused.body.message).toMatch(
      /scope is "read"; POST \/api\/v1\/agent\/provision needs "provision"/,
    );
    await api.post('/api/v1/environments/scoped/tokens').set(auth(reader)).send({}).expect(403);
    await api.delete('/api/v1/agents/ag_x').set(auth(reader)).expect(403);
    await api.post('/api/v1/api-keys').set(auth(reader)).send({ name: 'escalate' }).expect(403);
    await get(reader, '/api/v1/api-keys').expect(403);
    // A provision key operates the fleet but cannot make keys or change alerting.
    await provision(operator, { agent_type: 'server', environment_name: 'scoped' }).expect(201);
    const denied = await api
      .post('/api/v1/api-keys')
      .set(auth(operator))
      .send({ name: 'escalate' })
      .expect(403);
    expect(denied.body.message).toMatch(/needs "admin"/);
    await api
      .post('/api/v1/alerts/rules')
      .set(auth(operator))
      .send({ name: 'x', kind: 'agent_revoked', channel_ids: [] })
      .expect(403);
    // A scope that does not exist is a 400 naming the field.
    const bad = await api.post('/api/v1/api-keys').set(auth(keyA)).send({ scope: 'root' }).expect(400);
    expect((bad.body.errors as Json[]).map((e) => e.field)).toContain('scope');
  });

  it('audits every API key and enrollment token change with who made it', async () => {
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });
    const created = await api
      .post('/api/v1/api-keys')
      .set(auth(keyA))
      .send({ name: 'ci deploys' })
      .expect(201);
    await api.delete(`/api/v1/api-keys/${created.body.id}`).set(auth(keyA)).expect(200);
    const issued = await api
      .post('/api/v1/environments/audited/tokens')
      .set(auth(keyA))
      .send({ name: 'rack 7' })
      .expect(201);
    const rotated = await api
      .post(`/api/v1/environments/audited/tokens/${issued.body.id}/rotate`)
      .set(auth(keyA))
      .send({ grace_period_seconds: 0 })
      .expect(201);
    const replacement = rotated.body.token?.id ?? rotated.body.id;
    await api.delete(`/api/v1/environments/audited/tokens/${replacement}`).set(auth(keyA)).expect(200);

    const entries = await waitFor('the token entries', async () => {
      const page = (await get(keyA, '/api/v1/audit?action=token.*&limit=100').expect(200)).body as Json;
      const mine = (page.items as Json[]).filter((e) =>
        [created.body.id, issued.body.id, replacement].includes(e.target_id),
      );
      return mine.length >= 5 && mine;
    });
    const seen = entries.map((e: Json) => `${e.action} ${e.target_id}`).sort();
    expect(seen).toEqual(
      [
        `token.issued ${created.body.id}`,
        `token.revoked ${created.body.id}`,
        `token.issued ${issued.body.id}`,
        `token.rotated ${issued.body.id}`,
        `token.revoked ${replacement}`,
      ].sort(),
    );
    for (const entry of entries) {
      expect(entry).toMatchObject({ actor_kind: 'api_key', actor_name: 'initial key' });
      expect(entry.actor).toMatch(/^api_key:/);
    }
    const rotation = entries.find((e: Json) => e.action === 'token.rotated');
    expect(rotation?.details).toMatchObject({ replaced_by: replacement });
    // Another organisation sees none of it.
    const theirs = (await get(keyB, '/api/v1/audit?action=token.*&limit=100').expect(200)).body as Json;
    expect((theirs.items as Json[]).some((e) => e.target_id === created.body.id)).toBe(false);
  });

  describe('an enrolled agent', () => {
    let token: string;
    let first: EnrollReply;

    beforeAll(async () => {
      const res = await provision(keyA, { agent_type: 'server', environment_name: 'fleet' }).expect(201);
      token = res.body.enrollment_token;
      first = await enroll(token, {
        agentType: 'server',
        agentVersion: '0.1.0',
        host: host('machine-1', 'web-1.example'),
        labels: { team: 'payments', tier: 'web' },
      });
    });

    it('gets an agent id and a short-lived NATS JWT for its own key, allowing only its own subjects', async () => {
      expect(first.agentId).toMatch(/^ag_/);
      expect(first).toMatchObject({ environment: 'fleet', organizationId: orgA, reenrolled: false });
      const claims = decode<Json>(first.jwt);
      expect(claims.sub).toBe(keys.get(first.agentId)!.publicKey);
      expect(claims.name).toBe(first.agentId);
      expect(claims.nats.pub.allow).toEqual([
        `agents.fleet.${first.agentId}.heartbeat`,
        `agents.fleet.${first.agentId}.metrics`,
        `agents.fleet.${first.agentId}.renew`,
        `agents.fleet.${first.agentId}.config`,
      ]);
      expect(claims.nats.sub.allow).toEqual([
        `agents.fleet.${first.agentId}.control`,
        `_INBOX_${first.agentId}.>`,
      ]);
      expect(claims.exp! * 1000).toBe(Date.parse(first.jwtExpiresAt));
      expect(await lookup(first.agentId)).toMatchObject({ organizationId: orgA, revoked: false });
    });

    it('appears in the fleet list and by id', async () => {
      const list = (await get(keyA, '/api/v1/agents?environment=fleet').expect(200)).body as Json;
      expect(list.total).toBe(1);
      expect(list.items[0]).toMatchObject({
        id: first.agentId,
        hostname: 'web-1.example',
        host_id: 'machine-1',
        type: 'server',
        status: 'pending',
        labels: { team: 'payments', tier: 'web' },
      });
      const one = (await get(keyA, `/api/v1/agents/${first.agentId}`).expect(200)).body as Json;
      expect(one.id).toBe(first.agentId);
    });

    it('is found by label, status, type and hostname search, and not by other values', async () => {
      const ids = async (query: string) =>
        ((await get(keyA, `/api/v1/agents?${query}`).expect(200)).body as Json).items.map((a: Json) => a.id);
      expect(await ids('label=team%3Dpayments')).toEqual([first.agentId]);
      expect(await ids('label=team%3Dsearch')).toEqual([]);
      expect(await ids('search=WEB-1')).toEqual([first.agentId]);
      expect(await ids('search=%25')).toEqual([]);
      expect(await ids('type=docker')).toEqual([]);
      expect(await ids('status=revoked')).toEqual([]);
      await get(keyA, '/api/v1/agents?status=lost').expect(400);
    });

    it('is found by its id or a part of it, whatever the case', async () => {
      const ids = async (query: string) =>
        ((await get(keyA, `/api/v1/agents?${query}`).expect(200)).body as Json).items.map((a: Json) => a.id);
      expect(await ids(`search=${first.agentId}`)).toEqual([first.agentId]);
      expect(await ids(`search=${first.agentId.slice(3, 12).toUpperCase()}`)).toEqual([first.agentId]);
    });

    it('is a new agent when the same host enrolls again without proof from the key on record', async () => {
      const res = await enrollMachineAgain(new TestAgentKey().claim('machine-1')).expect(200);
      const stranger = res.body as EnrollReply;
      expect(stranger.agentId).not.toBe(first.agentId);
      expect(stranger.reenrolled).toBe(false);
      const original = (await get(keyA, `/api/v1/agents/${first.agentId}`).expect(200)).body as Json;
      expect(original).toMatchObject({ host_id: 'machine-1', version: '0.1.0' });
      expect((await lookup(first.agentId))!.publicKey).toBe(keys.get(first.agentId)!.publicKey);
      await api
        .delete(`/api/v1/agents/${stranger.agentId}`)
        .set('authorization', `Bearer ${keyA}`)
        .expect(200);
    });

    it('keeps its id when it enrolls again with a handover signed by its key, and its old key is revoked', async () => {
      const oldKey = keys.get(first.agentId)!;
      const newKey = new TestAgentKey();
      const res = await enrollMachineAgain(
        newKey.claim('machine-1', { agentId: first.agentId, key: oldKey }),
      ).expect(200);
      const again = res.body as EnrollReply;
      expect(again.agentId).toBe(first.agentId);
      expect(again.reenrolled).toBe(true);
      expect((await lookup(first.agentId))!.publicKey).toBe(newKey.publicKey);
      keys.set(first.agentId, newKey);
      // The old key can no longer renew a JWT.
      await api.post('/api/v1/intake/renew').send(oldKey.renewRequest(first.agentId)).expect(401);
      const renewed = (
        await api.post('/api/v1/intake/renew').send(newKey.renewRequest(first.agentId)).expect(200)
      ).body;
      expect(decode<Json>(renewed.jwt).sub).toBe(newKey.publicKey);
      const agent = (await get(keyA, `/api/v1/agents/${first.agentId}`).expect(200)).body as Json;
      expect(agent.version).toBe('0.2.0');
      first = again;
    });

    it('refuses a handover that the key on record did not sign', async () => {
      const impostor = new TestAgentKey();
      const res = await enrollMachineAgain(
        new TestAgentKey().claim('machine-1', { agentId: first.agentId, key: impostor }),
      ).expect(401);
      expect(res.body.code).toBe('SIGNATURE_INVALID');
      expect((await lookup(first.agentId))!.publicKey).toBe(keys.get(first.agentId)!.publicKey);
    });

    it('sorts by a column either way, and refuses an unknown one naming `sort`', async () => {
      // Two records of machine-1 by now (the re-enrollment without proof made a second agent).
      const ids = async (sort: string) =>
        ((await get(keyA, `/api/v1/agents?sort=${sort}`).expect(200)).body as Json).items.map(
          (a: Json) => a.id as string,
        );
      const ascending = await ids('id');
      expect(ascending.length).toBeGreaterThan(1);
      expect(ascending).toEqual([...ascending].sort());
      expect(await ids('-id')).toEqual([...ascending].reverse());
      const refused = (await get(keyA, '/api/v1/agents?sort=colour').expect(400)).body as Json;
      expect(refused.errors.map((e: Json) => e.field)).toEqual(['sort']);
    });

    /** machine-1 enrolling again over the HTTP intake with `identity`, as version 0.2.0. */
    const enrollMachineAgain = (identity: EnrollRequest['identity']) =>
      api
        .post('/api/v1/intake/enroll')
        .set('authorization', `Bearer ${token}`)
        .send({
          agentType: 'server',
          agentVersion: '0.2.0',
          host: host('machine-1', 'web-1.example'),
          identity,
        });

    it('goes online from its heartbeats over HTTP intake, and its metrics can be queried', async () => {
      const heartbeat = heartbeatOf(first.agentId);
      const intake = (path: 'heartbeat' | 'metrics', body: object) => intakeAs(first.agentId, path, body);
      await intake('heartbeat', heartbeat).expect(202);
      await waitFor('agent online', async () => {
        const agent = (await get(keyA, `/api/v1/agents/${first.agentId}`)).body as Json;
        return agent.status === 'online' && agent.last_seen_at;
      });
      const now = Date.now();
      const batch = {
        agentId: first.agentId,
        seq: 1,
        collectedAt: now,
        samples: [{ name: 'cpu.usage_percent', value: 42, unit: 'percent' }],
      };
      expect((await intake('metrics', batch).expect(202)).body).toEqual({ accepted: true, duplicate: false });
      expect((await intake('metrics', batch).expect(202)).body).toEqual({ accepted: true, duplicate: true });
      const fullBatch = {
        agentId: first.agentId,
        seq: 2,
        collectedAt: now,
        samples: Array.from({ length: MAX_SAMPLES_PER_BATCH }, (_, i) => ({
          name: 'disk.used_bytes',
          value: i,
          tags: { mount: `/mnt/volume-${i}` },
        })),
      };
      expect(JSON.stringify(fullBatch).length).toBeGreaterThan(100_000);
      await intake('metrics', fullBatch).expect(202);
      const series = await waitFor('stored metrics', async () => {
        const res = await get(
          keyA,
          `/api/v1/agents/${first.agentId}/metrics?name=cpu.usage_percent&from=${now - 60_000}&to=${now + 60_000}&step=60`,
        );
        return res.status === 200 && (res.body as Json).series.length > 0 && (res.body as Json).series;
      });
      expect(series[0].points.reduce((sum: number, p: Json) => sum + p.count, 0)).toBe(1);
      await get(keyB, `/api/v1/agents/${first.agentId}/metrics?name=cpu.usage_percent`).expect(404);
      await intake('heartbeat', { ...heartbeat, agentId: 'ag_someoneelse' }).expect(403);
    });

    it('shows when it was last heard, not only when it came online', async () => {
      const agentPath = `/api/v1/agents/${first.agentId}`;
      const before = (await get(keyA, agentPath)).body as Json;
      await intakeAs(first.agentId, 'heartbeat', heartbeatOf(first.agentId)).expect(202);
      const after = await waitFor('last_seen_at to follow the heartbeat', async () => {
        const agent = (await get(keyA, agentPath)).body as Json;
        return Date.parse(agent.last_seen_at) > Date.parse(before.last_seen_at) && agent;
      });
      expect(after.status).toBe('online');
      const listed = (await get(keyA, `/api/v1/agents?search=${before.hostname}`)).body as Json;
      expect(listed.items.find((a: Json) => a.id === first.agentId).last_seen_at).toBe(after.last_seen_at);
      // The registry itself still holds the time of the last status change.
      const registry = await platform.rpc.request<AgentRecord>(Subjects.fleet.get, {
        organizationId: orgA,
        agentId: first.agentId,
      });
      expect(registry.lastSeenAt).toBe(before.last_seen_at);
    });

    it('is invisible to another organisation', async () => {
      expect(((await get(keyB, '/api/v1/agents').expect(200)).body as Json).total).toBe(0);
      await get(keyB, `/api/v1/agents/${first.agentId}`).expect(404);
      await api.delete(`/api/v1/agents/${first.agentId}`).set('authorization', `Bearer ${keyB}`).expect(404);
      // B's log holds only its own key's creation.
      const bAudit = (await get(keyB, '/api/v1/audit').expect(200)).body as Json;
      expect(bAudit.items.map((e: Json) => e.action)).toEqual(['token.issued']);
      expect(bAudit.items[0].target_id).not.toBe(first.agentId);
      expect(((await get(keyA, `/api/v1/agents/${first.agentId}`).expect(200)).body as Json).status).not.toBe(
        'revoked',
      );
    });

    it('is revoked: status revoked, key refused, control message sent, audit written', async () => {
      const observer = await platform.nats.bus!.connectWith('observer', [], ['agents.>']);
      const control = observer.subscribe(Subjects.agentControl('fleet', first.agentId), { max: 1 });
      await observer.flush();
      const received = (async () => {
        for await (const message of control) return message.json<{ type: string }>();
      })();
      const res = await api
        .delete(`/api/v1/agents/${first.agentId}`)
        .set('authorization', `Bearer ${keyA}`)
        .expect(200);
      expect(res.body).toMatchObject({ id: first.agentId, status: 'revoked' });
      expect(res.body.revoked_at).toEqual(expect.any(String));
      expect(await received).toMatchObject({ type: 'revoked' });
      expect(await lookup(first.agentId)).toMatchObject({ revoked: true });
      await api
        .post('/api/v1/intake/renew')
        .send(keys.get(first.agentId)!.renewRequest(first.agentId))
        .expect(401);
      // Its next message through the gateway is refused (the gateway's directory hears the revocation).
      await waitFor('heartbeat refused', async () => {
        const refused = await intakeAs(first.agentId, 'heartbeat', heartbeatOf(first.agentId));
        if (refused.status !== 401) return false;
        expect(refused.body.code).toBe('AGENT_REVOKED');
        return true;
      });
      const audit = (await get(keyA, `/api/v1/audit?agent_id=${first.agentId}`).expect(200)).body as Json;
      expect(audit.items.map((e: Json) => e.action)).toEqual([
        'agent.revoked',
        'agent.reenrolled',
        'agent.enrolled',
      ]);
      expect(audit.items[0].actor).toMatch(/^api_key:/);
      await observer.close();
    });

    it('names the actor by its API key or enrollment token, and filters actions by prefix', async () => {
      const audit = (await get(keyA, `/api/v1/audit?agent_id=${first.agentId}`).expect(200)).body as Json;
      expect(audit.items[0]).toMatchObject({ actor_kind: 'api_key', actor_name: 'initial key' });
      expect(audit.items[2]).toMatchObject({
        action: 'agent.enrolled',
        actor_kind: 'enrollment_token',
        actor_name: expect.any(String),
      });
      expect(audit.items[2].actor_name).not.toMatch(/^enrollment:/);

      const agents = (await get(keyA, '/api/v1/audit?action=agent.*&limit=100').expect(200)).body as Json;
      expect(agents.total).toBeGreaterThanOrEqual(3);
      expect(agents.items.every((e: Json) => e.action.startsWith('agent.'))).toBe(true);
      const all = (await get(keyA, '/api/v1/audit?limit=100').expect(200)).body as Json;
      expect(all.items.some((e: Json) => !e.action.startsWith('agent.'))).toBe(true);
      // A LIKE wildcard is not a prefix: `agent_` matches nothing rather than `agent.`.
      expect(((await get(keyA, '/api/v1/audit?action=agent_.*').expect(200)).body as Json).total).toBe(0);
      const bad = await get(keyA, '/api/v1/audit?action=agent%25').expect(400);
      expect(bad.body.errors).toEqual([
        { field: 'action', reason: expect.stringContaining('prefix ending in .*') },
      ]);
      // Another organisation's keys are never looked up: B sees nothing, named or not.
      expect(((await get(keyB, '/api/v1/audit?action=agent.*').expect(200)).body as Json).total).toBe(0);
    });

    it('stays revoked: liveness events are ignored and the host cannot enroll again', async () => {
      // Liveness comes from ingestion: publish as ingestion does.
      const ingestion = await platform.nats.bus!.connect('ingestion');
      const events = new EventPublisher(ingestion);
      await events.publish({
        kind: EventKinds.agentOnline,
        organizationId: orgA,
        environment: 'fleet',
        agentId: first.agentId,
        data: { lastSeenAt: Date.now() + 60_000 },
      });
      const failures = platform.nc.subscribe(Subjects.event(EventKinds.agentEnrollmentFailed), { max: 1 });
      const failure = (async () => {
        for await (const message of failures) return message.json<Json>();
      })();
      await expect(
        enroll(token, { agentType: 'server', agentVersion: '0.2.0', host: host('machine-1') }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await failure).toMatchObject({
        kind: 'agent.enrollment_failed',
        organizationId: orgA,
        environment: 'fleet',
        data: { reason: 'FORBIDDEN', agentType: 'server', hostname: 'host-machine-1' },
      });
      // A marker event on another agent proves the consumer got past the first one.
      const other = await enroll(token, {
        agentType: 'server',
        agentVersion: '0.1.0',
        host: host('machine-2'),
      });
      await events.publish({
        kind: EventKinds.agentOnline,
        organizationId: orgA,
        environment: 'fleet',
        agentId: other.agentId,
        data: { lastSeenAt: Date.now() },
      });
      await waitFor(
        'marker applied',
        async () => ((await get(keyA, `/api/v1/agents/${other.agentId}`)).body as Json).status === 'online',
      );
      expect(((await get(keyA, `/api/v1/agents/${first.agentId}`)).body as Json).status).toBe('revoked');
      await ingestion.close();
    });
  });

  it("enrolls a real agent process run with the generated command's arguments, then revocation stops it", async () => {
    const res = await provision(keyA, {
      agent_type: 'server',
      environment_name: 'real-agent',
      config: { log_level: 'debug' },
    }).expect(201);
    const [sudo, [, token]] = argumentsSeenBySh(res.body.command);
    const stateDir = mkdtempSync(join(tmpdir(), 'rca-agent-state-'));
    // The arguments install.sh receives are the agent's own flags (deploy contract). The command names the
    // public URL, which this test cannot reach: the local gateway stands in for it (the last flag wins).
    // --bundle-sha256/--binary-sha256 are install.sh's own (what it downloads), not the agent's; the token
    // it reads on stdin (--token-file -) becomes the agent's RCA_TOKEN.
    const installArgs = sudo.slice(3);
    const agentArgs = [
      ...withoutInstallOnlyFlags(installArgs),
      '--token',
      token,
      '--platform-url',
      platform.baseUrl,
    ];
    expect(agentArgs).toContain('--ca-pin');
    const { command, args } = agentCommand();
    const agent = spawn(
      command,
      [...args, ...agentArgs, '--state-dir', stateDir, '--heartbeat-interval', '1'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    agent.stdout.on('data', (d: Buffer) => (output += d.toString()));
    agent.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
    try {
      const online = await waitFor(
        'the agent online in the fleet',
        async () => {
          const list = (await get(keyA, '/api/v1/agents?environment=real-agent')).body as Json;
          return list.items?.[0]?.status === 'online' && list.items[0];
        },
        30_000,
        200,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nagent output:\n${output}`);
      });
      expect(online.type).toBe('server');
      await api.delete(`/api/v1/agents/${online.id}`).set('authorization', `Bearer ${keyA}`).expect(200);
      expect(await exited).toBe(78);
    } finally {
      agent.kill('SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('applies offline after online and ignores a stale online redelivered later', async () => {
    const res = await provision(keyA, { agent_type: 'server', environment_name: 'liveness' }).expect(201);
    const agent = await enroll(res.body.enrollment_token, {
      agentType: 'server',
      agentVersion: '0.1.0',
      host: host('live-1'),
    });
    const events = new EventPublisher(await platform.connectAs('ingestion'));
    const publish = (
      kind: typeof EventKinds.agentOnline | typeof EventKinds.agentOffline,
      lastSeenAt: number,
    ) =>
      events.publish({
        kind,
        organizationId: orgA,
        environment: 'liveness',
        agentId: agent.agentId,
        data: { lastSeenAt },
      });
    const status = async () => ((await get(keyA, `/api/v1/agents/${agent.agentId}`)).body as Json).status;
    await publish(EventKinds.agentOnline, 1_000);
    await waitFor('online', async () => (await status()) === 'online');
    await publish(EventKinds.agentOffline, 5_000);
    await waitFor('offline', async () => (await status()) === 'offline');
    await publish(EventKinds.agentOnline, 5_000);
    await publish(EventKinds.agentOnline, 9_000);
    await waitFor('online again', async () => (await status()) === 'online');
    const seen = ((await get(keyA, `/api/v1/agents/${agent.agentId}`)).body as Json).last_seen_at;
    expect(seen).toBe(new Date(9_000).toISOString());
  });

  it('parks a liveness event it can never apply on DEAD_LETTER with the reason, and goes on', async () => {
    const res = await provision(keyA, { agent_type: 'server', environment_name: 'poison' }).expect(201);
    const agent = await enroll(res.body.enrollment_token, {
      agentType: 'server',
      agentVersion: '0.1.0',
      host: host('poison-1'),
    });
    // What only ingestion may publish, malformed: no lastSeenAt.
    const ingestion = await platform.connectAs('ingestion');
    const js = ingestion.jetstream();
    const codec = JSONCodec();
    const broken = {
      id: 'broken-1',
      kind: EventKinds.agentOnline,
      organizationId: orgA,
      agentId: agent.agentId,
      occurredAt: new Date().toISOString(),
      data: {},
    };
    await js.publish(Subjects.event(EventKinds.agentOnline), codec.encode(broken));
    await new EventPublisher(ingestion).publish({
      kind: EventKinds.agentOnline,
      organizationId: orgA,
      environment: 'poison',
      agentId: agent.agentId,
      data: { lastSeenAt: 2_000 },
    });
    const status = async () => ((await get(keyA, `/api/v1/agents/${agent.agentId}`)).body as Json).status;
    await waitFor('the valid event behind it applied', async () => (await status()) === 'online');

    const reader = await platform.nats.bus!.connectWith(
      'dead-letter-reader',
      ['$JS.API.>'],
      ['_INBOX_dead-letter-reader.>'],
    );
    try {
      const parked = await (
        await reader.jetstreamManager()
      ).streams.getMessage(Streams.deadLetter, {
        last_by_subj: Subjects.deadLetter(Consumers.agentStatus),
      });
      expect(parked.header.get(Headers.deadLetterReason)).toBe(
        'liveness event without agentId, organizationId or data.lastSeenAt',
      );
      expect(parked.header.get(Headers.deadLetterSubject)).toBe(Subjects.event(EventKinds.agentOnline));
      expect(codec.decode(parked.data)).toEqual(broken);
    } finally {
      await reader.close();
    }
  });

  it('refuses enrollment with a bad token by code, and rate-limits one token', async () => {
    const base = { agentType: 'server', agentVersion: '0.1.0', host: host('x') };
    await expect(enroll('rca_et_garbage', base)).rejects.toMatchObject({ code: 'TOKEN_MALFORMED' });
    await expect(platform.rpc.request(Subjects.enroll, base, { headers: {} })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const res = await provision(keyA, {
      agent_type: 'server',
      environment_name: 'limits',
      max_uses: 1,
    }).expect(201);
    const token = res.body.enrollment_token;
    await enroll(token, { ...base, host: host('limit-1') });
    await expect(enroll(token, { ...base, host: host('limit-2') })).rejects.toMatchObject({
      code: 'TOKEN_EXHAUSTED',
    });
    // At once, so the bucket (20 per minute) cannot refill between them.
    const codes = await Promise.all(
      Array.from({ length: 20 }, () =>
        enroll(token, base).then(
          () => 'OK',
          (error: DomainError) => error.code,
        ),
      ),
    );
    expect(codes).toContain('RATE_LIMITED');
    expect(codes.filter((c) => c !== 'RATE_LIMITED' && c !== 'TOKEN_EXHAUSTED')).toEqual([]);
  });

  it('serves the install scripts and a Helm repository whose index matches the archive', async () => {
    const sh = await api.get('/install.sh').expect(200);
    expect(sh.text).toBe(readFileSync(join(DEPLOY_DIR, 'install', 'install.sh'), 'utf8'));
    await api.get('/install.ps1').expect(200);
    const download = (path: string) =>
      api
        .get(path)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
    // The bytes whose SHA-256 the generated commands pin, as the agent build wrote them.
    expect((await download('/downloads/rca-agent-bundle.tgz')).body).toEqual(AGENT_BUILD.bundle);
    expect((await download('/downloads/rca-agent-linux-x64')).body).toEqual(AGENT_BUILD.binary);
    expect((await download('/downloads/rca-agent-lambda-layer.zip')).body).toEqual(AGENT_BUILD.lambdaLayer);
    const index = parseYaml((await api.get('/charts/index.yaml').expect(200)).text) as Json;
    const [entry] = index.entries['rca-agent'];
    expect(entry.name).toBe('rca-agent');
    const archive = await api
      .get(`/charts/${entry.urls[0]}`)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(
      createHash('sha256')
        .update(archive.body as Buffer)
        .digest('hex'),
    ).toBe(entry.digest);
    await api.get('/charts/rca-agent-9.9.9.tgz').expect(404);
  });
});
