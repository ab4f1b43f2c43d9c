import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import pino from 'pino';
import { AgentExitCodes, AgentFatalError } from '../agent-exit-codes';
import { enrollBackoffMs, enrollWithRetry } from './enrollment';
import { PlatformClient } from './platform-client';

const request = {
  agentType: 'server',
  agentVersion: '0.1.0',
  host: { hostname: 'h', hostId: 'id', os: 'linux' },
  identity: { publicKey: `U${'A'.repeat(55)}`, proof: 'x'.repeat(86) },
};
const silent = pino({ level: 'silent' });

/** An intake that answers every enrollment with `status` and `body`, listening on `port` (0: any). */
async function intake(status: number, body: unknown, port = 0): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return server;
}

describe('enrollment', () => {
  it('backs off from 1 s, doubling up to 30 s, within ±20 %', () => {
    expect([0, 1, 2, 10].map((a) => enrollBackoffMs(a, () => 0.5))).toEqual([1000, 2000, 4000, 30000]);
    expect(enrollBackoffMs(0, () => 0)).toBe(800);
    expect(enrollBackoffMs(0, () => 1)).toBeCloseTo(1200);
  });

  it('keeps retrying while the platform cannot be reached, and enrolls once it answers', async () => {
    // A port that was free a moment ago: nothing listens there for the first attempt.
    const probe = await intake(200, {});
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    let server: Server | undefined;
    setTimeout(
      () => void intake(200, { agentId: 'agt_1', environment: 'prod-1' }, port).then((s) => (server = s)),
      300,
    );
    try {
      const reply = await enrollWithRetry(
        new PlatformClient({ platformUrl: `http://127.0.0.1:${port}`, timeoutMs: 1000 }),
        'rca_et_x',
        request,
        { log: silent, random: () => 0, stopped: () => false },
      );
      expect(reply.agentId).toBe('agt_1');
    } finally {
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
    }
  });

  it('stops at once with exit code 77 when the token is refused', async () => {
    const server = await intake(401, {
      statusCode: 401,
      code: 'TOKEN_EXPIRED',
      message: 'token has expired',
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const attempt = enrollWithRetry(
        new PlatformClient({ platformUrl: url, timeoutMs: 1000 }),
        'rca_et_x',
        request,
        {
          log: silent,
          random: () => 0,
          stopped: () => false,
        },
      );
      await expect(attempt).rejects.toThrow(AgentFatalError);
      await expect(attempt).rejects.toMatchObject({ exitCode: AgentExitCodes.enrollmentRefused });
      await expect(attempt).rejects.toThrow('enrollment refused (TOKEN_EXPIRED): token has expired');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
