import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import pino from 'pino';
import { AgentControlMessage, DomainError, ErrorCodes } from '@app/contracts';
import { HttpAgentWire } from './http-agent-wire';

const identity = { agentId: 'agt_1', environment: 'edge', credential: 'rca_ac_1' };
const request = {
  agentType: 'server',
  agentVersion: '0.1.0',
  host: { hostname: 'h', hostId: 'i', os: 'linux' },
};

/** Answers every request with the next scripted status and body, and records what it got. */
async function scriptedServer(answers: [number, string][]) {
  const seen: { url: string; authorization?: string; body: string }[] = [];
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ url: req.url!, authorization: req.headers.authorization, body });
    const [status, payload] = answers.shift() ?? [500, ''];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(payload);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
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
  it('posts the batch with the credential as Bearer token to the intake', async () => {
    const server = await scriptedServer([[202, '{"accepted":true,"duplicate":false}']]);
    const wire = new HttpAgentWire(`${server.url}/`, 1000, pino({ level: 'silent' }));
    await wire.publishMetrics(identity, { seq: 7, data: new TextEncoder().encode('{"seq":7}') });
    expect(server.seen).toEqual([
      { url: '/api/v1/intake/metrics', authorization: 'Bearer rca_ac_1', body: '{"seq":7}' },
    ]);
    await server.close();
  });

  it('turns a refused enrollment into a DomainError with the platform code, not a revocation', async () => {
    const server = await scriptedServer([
      [401, '{"statusCode":401,"code":"TOKEN_EXPIRED","message":"token has expired"}'],
    ]);
    const wire = new HttpAgentWire(server.url, 1000, pino({ level: 'silent' }));
    const control: AgentControlMessage[] = [];
    wire.onControl(identity, (m) => control.push(m));
    const error = await rejection(wire.enroll('rca_et_1', request));
    expect(error).toMatchObject({ code: ErrorCodes.TOKEN_EXPIRED, message: 'token has expired' });
    expect(control).toEqual([]);
    await server.close();
  });

  it('hands a 401 TOKEN_REVOKED on a batch to the control handler as "revoked"', async () => {
    const server = await scriptedServer([
      [401, '{"statusCode":401,"code":"TOKEN_REVOKED","message":"token has been revoked"}'],
    ]);
    const wire = new HttpAgentWire(server.url, 1000, pino({ level: 'silent' }));
    const control: AgentControlMessage[] = [];
    wire.onControl(identity, (m) => control.push(m));
    expect((await rejection(wire.publishMetrics(identity, { seq: 1, data: new Uint8Array() }))).code).toBe(
      ErrorCodes.TOKEN_REVOKED,
    );
    expect(control).toEqual([{ type: 'revoked', reason: 'token has been revoked' }]);
    await server.close();
  });

  it('treats a proxy error page and a refused connection as unavailable (retried later)', async () => {
    const server = await scriptedServer([[502, '<html>Bad Gateway</html>']]);
    const wire = new HttpAgentWire(server.url, 1000, pino({ level: 'silent' }));
    expect((await rejection(wire.publishMetrics(identity, { seq: 1, data: new Uint8Array() }))).code).toBe(
      ErrorCodes.UNAVAILABLE,
    );
    await server.close();
    expect((await rejection(wire.publishMetrics(identity, { seq: 1, data: new Uint8Array() }))).code).toBe(
      ErrorCodes.UNAVAILABLE,
    );
  });
});
