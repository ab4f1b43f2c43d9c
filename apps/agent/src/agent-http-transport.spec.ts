import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import {
  AGENT_SIGNATURE_HEADER,
  AgentStatements,
  EnrollReply,
  EnrollRequest,
  formatToken,
  Heartbeat,
  MetricsBatch,
  parseAgentSignatureHeader,
  PROTOCOL_VERSION,
  validateDto,
  verifyStatement,
} from '@app/contracts';
import { AgentExitCodes } from '@app/agent-core';
import { waitFor } from '@app/testing';

const ROOT = resolve(__dirname, '../../..');

/**
 * The gateway's agent intake as the agent sees it (apps/gateway/src/intake): enrollment with a Bearer
 * token and the agent's public key, then heartbeats and metrics signed with that key, the NATS bodies
 * as JSON, 202 on heartbeat/metrics, the DomainError body on refusal. Metrics are stored once per seq,
 * like JetStream's de-duplication.
 */
class FakeIntake {
  readonly batches = new Map<number, MetricsBatch>();
  readonly heartbeats: Heartbeat[] = [];
  enrollments = 0;
  revoked = false;
  private publicKey = '';
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let body = '';
    for await (const chunk of req) body += chunk;
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.url === '/api/v1/intake/enroll') {
      if (!/^Bearer rca_et_/.test(req.headers.authorization ?? ''))
        return reply(401, { statusCode: 401, code: 'UNAUTHENTICATED', message: 'no token' });
      this.enrollments++;
      this.publicKey = (JSON.parse(body) as EnrollRequest).identity.publicKey;
      const enrolled: EnrollReply = {
        agentId: 'agt_http1',
        jwt: 'not-used-over-http',
        jwtExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
        organizationId: 'org_1',
        environment: 'edge',
        heartbeatIntervalSeconds: 1,
        protocolVersion: PROTOCOL_VERSION,
        reenrolled: false,
      };
      return reply(200, enrolled);
    }
    const signed = parseAgentSignatureHeader(req.headers[AGENT_SIGNATURE_HEADER] as string | undefined);
    const route = req.url!.split('/').pop()!;
    const digest = createHash('sha256').update(body).digest('hex');
    if (
      !signed ||
      !verifyStatement(
        this.publicKey,
        AgentStatements.request('POST', route, signed.signedAt, digest),
        signed.signature,
      )
    )
      return reply(401, { statusCode: 401, code: 'SIGNATURE_INVALID', message: 'bad signature' });
    if (this.revoked)
      return reply(401, {
        statusCode: 401,
        code: 'AGENT_REVOKED',
        message: 'agent agt_http1 has been revoked',
      });
    if (req.url === '/api/v1/intake/heartbeat') {
      this.heartbeats.push(validateDto(Heartbeat, JSON.parse(body)));
      return reply(202, { accepted: true });
    }
    if (req.url === '/api/v1/intake/metrics') {
      const batch = validateDto(MetricsBatch, JSON.parse(body));
      const duplicate = this.batches.has(batch.seq);
      this.batches.set(batch.seq, batch);
      return reply(202, { accepted: true, duplicate });
    }
    reply(404, { statusCode: 404, code: 'NOT_FOUND', message: 'no route' });
  }
}

describe('the agent over the HTTP intake (RCA_TRANSPORT=http)', () => {
  let intake: FakeIntake;
  let stateDir: string;
  let agent: ChildProcess | undefined;

  beforeEach(async () => {
    intake = new FakeIntake();
    await intake.start();
    stateDir = mkdtempSync(join(tmpdir(), 'rca-agent-http-'));
  });
  afterEach(async () => {
    if (agent?.exitCode === null) agent.kill('SIGKILL');
    await intake.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('enrolls, reports, bridges an intake outage without losing a batch, and stops with 78 when revoked', async () => {
    let output = '';
    agent = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/agent/src/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        RCA_TRANSPORT: 'http',
        RCA_PLATFORM_URL: `http://127.0.0.1:${intake.port}/`,
        RCA_TOKEN: formatToken('enrollment', randomBytes),
        RCA_HEARTBEAT_INTERVAL: '1',
        RCA_STATE_DIR: stateDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exit = new Promise<number | null>((r) => agent!.once('exit', r));
    const fail = (e: unknown) => {
      throw new Error(`${String(e)}\n${output}`);
    };

    await waitFor(
      'two batches and a heartbeat',
      () => intake.batches.size >= 2 && intake.heartbeats.length > 0,
      20_000,
    ).catch(fail);
    expect(intake.enrollments).toBe(1);
    expect(intake.heartbeats[0]).toMatchObject({ agentId: 'agt_http1', state: 'running' });

    await intake.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await intake.start();
    const resumedAfter = Math.max(...intake.batches.keys());
    await waitFor(
      'batches after the outage',
      () => intake.batches.size >= 6 && Math.max(...intake.batches.keys()) > resumedAfter + 3,
      20_000,
    ).catch(fail);

    const seqs = [...intake.batches.keys()].sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));

    intake.revoked = true;
    expect(await exit).toBe(AgentExitCodes.revoked);
    expect(output).toMatch(/revoked this agent/);
  });
});
