import { JSONCodec } from 'nats';
import pino from 'pino';
import { EnrollReply, RpcRequestPacket, Subjects } from '@app/contracts';
import { connectNats } from '@app/messaging/nats-connection';
import { NatsServerHandle, startNatsServer } from '@app/testing';
import { AgentExitCodes, AgentFatalError } from '../agent-exit-codes';
import { NatsAgentWire } from './nats-agent-wire';
import { enrollBackoffMs, enrollWithRetry } from './enrollment';

const json = JSONCodec<unknown>();
const request = {
  agentType: 'server',
  agentVersion: '0.1.0',
  host: { hostname: 'h', hostId: 'id', os: 'linux' },
};
const silent = pino({ level: 'silent' });

describe('enrollment', () => {
  let nats: NatsServerHandle;
  beforeAll(async () => (nats = await startNatsServer()));
  afterAll(() => nats.dispose());

  it('backs off from 1 s, doubling up to 30 s, within ±20 %', () => {
    expect([0, 1, 2, 10].map((a) => enrollBackoffMs(a, () => 0.5))).toEqual([1000, 2000, 4000, 30000]);
    expect(enrollBackoffMs(0, () => 0)).toBe(800);
    expect(enrollBackoffMs(0, () => 1)).toBeCloseTo(1200);
  });

  it('keeps retrying while nothing answers, and enrolls once the platform is up', async () => {
    const nc = await connectNats({ url: nats.url, name: 'agent' });
    const platform = await connectNats({ url: nats.url, name: 'platform' });
    try {
      // The responder appears only after the first attempt found nobody listening.
      setTimeout(() => {
        platform.subscribe(Subjects.enroll, {
          callback: (_, msg) => {
            const { id } = json.decode(msg.data) as RpcRequestPacket;
            const response: Partial<EnrollReply> = {
              agentId: 'agt_1',
              credential: 'rca_ac_1',
              environment: 'prod-1',
            };
            msg.respond(json.encode({ id, response, isDisposed: true }));
          },
        });
      }, 300);
      const reply = await enrollWithRetry(new NatsAgentWire(nc, 1000), 'rca_et_x', request, {
        log: silent,
        random: () => 0,
        stopped: () => false,
      });
      expect(reply.agentId).toBe('agt_1');
    } finally {
      await nc.close();
      await platform.close();
    }
  });

  it('stops at once with exit code 77 when the token is refused', async () => {
    const nc = await connectNats({ url: nats.url, name: 'agent' });
    const sub = nc.subscribe(Subjects.enroll, {
      callback: (_, msg) => {
        const { id } = json.decode(msg.data) as RpcRequestPacket;
        msg.respond(
          json.encode({ id, err: { code: 'TOKEN_EXPIRED', message: 'token has expired' }, isDisposed: true }),
        );
      },
    });
    try {
      const attempt = enrollWithRetry(new NatsAgentWire(nc, 1000), 'rca_et_x', request, {
        log: silent,
        random: () => 0,
        stopped: () => false,
      });
      await expect(attempt).rejects.toThrow(AgentFatalError);
      await expect(attempt).rejects.toMatchObject({ exitCode: AgentExitCodes.enrollmentRefused });
      await expect(attempt).rejects.toThrow('enrollment refused (TOKEN_EXPIRED): token has expired');
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
  });
});
