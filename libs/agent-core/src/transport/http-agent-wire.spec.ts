import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createUser } from 'nkeys.js';
import pino from 'pino';
import {
  AGENT_SIGNATURE_HEADER,
  AgentControlMessage,
  AgentStatements,
  DomainError,
  ErrorCodes,
  parseAgentSignatureHeader,
  verifyStatement,
} from '@app/contracts';
import { HttpAgentWire } from './http-agent-wire';
import { PlatformClient } from './platform-client';

const identity = { agentId: 'agt_1', environment: 'edge' };
const key = createUser();
const request = {
  agentType: 'server',
  agentVersion: '0.1.0',
  host: { hostname: 'h', hostId: 'i', os: 'linux' },
  identity: { publicKey: key.getPublicKey(), proof: 'x'.repeat(86) },
};

/** Answers every request with the next scripted status and body, and records what it got. */
async function scriptedServer(answers: [number, string][]) {
  const seen: { url: string; signature?: string; authorization?: string; body: string }[] = [];
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({
      url: req.url!,
      signature: req.headers[AGENT_SIGNATURE_HEADER] as string | undefined,
      authorization: req.headers.authorization,
      body,
    });
    const [status, payload] = answers.shift() ?? [500, ''];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(payload);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    seen,
    url,
    client: new PlatformClient({ platformUrl: `${url}/`, timeoutMs: 1000 }),
    close: () => new Promise((r) => server.close(r)),
  };
}

const rejection = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a rejection');
};

describe(HttpAgentWire.name, () => {
  it("posts the batch to the intake signed with the agent's key over its exact bytes", async () => {
    const server = await scriptedServer([[202, '{"accepted":true,"duplicate":false}']]);
    const wire = new HttpAgentWire(server.client, key, pino({ level: 'silent' }));
    await wire.publishMetrics(identity, { seq: 7, data: new TextEncoder().encode('{"seq":7}') });
    expect(server.seen).toHaveLength(1);
    const [seen] = server.seen;
    expect(seen).toMatchObject({
      url: '/api/v1/intake/metrics',
      authorization: undefined,
      body: '{"seq":7}',
    });
    const signed = parseAgentSignatureHeader(seen.signature)!;
    expect(signed.agentId).toBe('agt_1');
    const digest = createHash('sha256').update(seen.body).digest('hex');
    const statement = AgentStatements.request('POST', 'metrics', signed.signedAt, digest);
    expect(verifyStatement(key.getPublicKey(), statement, signed.signature)).toBe(true);
    expect(
      verifyStatement(key.getPublicKey(), statement.replace(digest, '0'.repeat(64)), signed.signature),
    ).toBe(false);
    await server.close();
  });

  it('turns a refused enrollment into a DomainError with the platform code', async () => {
    const server = await scriptedServer([
      [401, '{"statusCode":401,"code":"TOKEN_EXPIRED","message":"token has expired"}'],
    ]);
    const error = await rejection(server.client.enroll('rca_et_1', request));
    expect(error).toMatchObject({ code: ErrorCodes.TOKEN_EXPIRED, message: 'token has expired' });
    expect(server.seen[0].authorization).toBe('Bearer rca_et_1');
    await server.close();
  });

  it('hands AGENT_REVOKED on a batch to the control handler as "revoked"', async () => {
    const server = await scriptedServer([
      [401, '{"statusCode":401,"code":"AGENT_REVOKED","message":"agent agt_1 has been revoked"}'],
    ]);
    const wire = new HttpAgentWire(server.client, key, pino({ level: 'silent' }));
    const control: AgentControlMessage[] = [];
    wire.onControl(identity, (m) => control.push(m));
    expect((await rejection(wire.publishMetrics(identity, { seq: 1, data: new Uint8Array() }))).code).toBe(
      ErrorCodes.AGENT_REVOKED,
    );
    expect(control).toEqual([{ type: 'revoked', reason: 'agent agt_1 has been revoked' }]);
    await server.close();
  });

  it('treats a proxy error page and a refused connection as unavailable (retried later)', async () => {
    const server = await scriptedServer([[502, '<html>Bad Gateway</html>']]);
    const wire = new HttpAgentWire(server.client, key, pino({ level: 'silent' }));
    expect((await rejection(wire.publishMetrics(identity, { seq: 1, data: new Uint8Array() }))).code).toBe(
      ErrorCodes.UNAVAILABLE,
    );
    await server.close();
    expect((await rejection(wire.publishMetrics(identity, { seq: 1, data: new Uint8Array() }))).code).toBe(
      ErrorCodes.UNAVAILABLE,
    );
  });
});
