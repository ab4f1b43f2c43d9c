import { INestApplication } from '@nestjs/common';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { loadConfig } from '@app/config';
import {
  CreatedOrganization,
  EventEnvelope,
  EventKinds,
  formatToken,
  IssuedToken,
  Subjects,
  TokenMetadata,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { createTestDatabase, NatsServerHandle, startNatsServer, TestDatabase, waitFor } from '@app/testing';
// The real token service in-process (API keys are verified through it), and the parser the dashboard uses.
import { startTokensHarness, TokensHarness } from '../../../tokens/test/tokens.harness';
import { SseFrame, SseParser } from '../../../dashboard/src/api/sse-parser';
import { createGatewayApp } from '../app';
import { GatewayConfig } from '../config';
import { EventHub } from './event-hub';

const json = JSONCodec<EventEnvelope>();

/** An open `GET /api/v1/events/stream`, read the way the dashboard reads it. */
interface OpenStream {
  status: number;
  /** Resolves with the first frame (after those already read) that matches. */
  next(match: (frame: SseFrame) => boolean): Promise<SseFrame>;
  seen: SseFrame[];
  /** The server finished the response. */
  readonly ended: boolean;
  close(): void;
}

describe('GET /api/v1/events/stream', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TokensHarness;
  let gateway: INestApplication;
  let baseUrl: string;
  let nc: NatsConnection;
  let rpc: RpcClient;
  let orgCount = 0;

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase('sqlite', 'live');
    tokens = await startTokensHarness({
      natsUrl: nats.url,
      env: { ...database.env, BOOTSTRAP_API_KEY: formatToken('api_key', (n) => Buffer.alloc(n, 7)) },
    });
    gateway = await createGatewayApp(
      loadConfig(GatewayConfig, {
        NATS_URL: nats.url,
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATA_DIR: database.env.DATA_DIR,
      }),
    );
    await gateway.listen(0, '127.0.0.1');
    baseUrl = await gateway.getUrl();
    nc = await connect({ servers: nats.url });
    rpc = new RpcClient(nc, 5000);
  });

  afterAll(async () => {
    await nc?.close();
    // Open streams are ended by the hub on shutdown, so this returns instead of waiting for clients.
    await gateway?.close();
    await tokens?.close();
    await database?.cleanup();
    await nats?.dispose();
  });

  const newOrganization = async () => {
    const created = await rpc.request<CreatedOrganization>(Subjects.tokens.createOrganization, {
      name: `live-${++orgCount}`,
    });
    return { id: created.organization.id, key: created.apiKey.secret, keyId: created.apiKey.id };
  };

  const open = async (headers: Record<string, string>): Promise<OpenStream> => {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/api/v1/events/stream`, { headers, signal: controller.signal });
    const seen: SseFrame[] = [];
    const waiters: { match: (f: SseFrame) => boolean; resolve: (f: SseFrame) => void }[] = [];
    let read = 0;
    let ended = false;
    const deliver = () => {
      for (const waiter of [...waiters]) {
        const index = seen.findIndex((frame, i) => i >= read && waiter.match(frame));
        if (index !== -1) {
          read = index + 1;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(seen[index]);
        }
      }
    };
    if (response.ok && response.body) {
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      void (async () => {
        for (;;) {
          const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (chunk.done) {
            ended = true;
            return;
          }
          seen.push(...parser.push(decoder.decode(chunk.value, { stream: true })));
          deliver();
        }
      })();
    }
    return {
      status: response.status,
      seen,
      get ended() {
        return ended;
      },
      next: (match) =>
        new Promise((resolve) => {
          waiters.push({ match, resolve });
          deliver();
        }),
      close: () => controller.abort(),
    };
  };

  const publish = (organizationId: string, agentId: string) => {
    const event: EventEnvelope = {
      id: `${agentId}:offline:${Date.now()}`,
      kind: EventKinds.agentOffline,
      occurredAt: new Date().toISOString(),
      organizationId,
      environment: 'prod-1',
      agentId,
      data: { lastSeenAt: 1_700_000_000_000, silentForMs: 30_000 },
    };
    nc.publish(Subjects.event(EventKinds.agentOffline), json.encode(event));
  };

  it('refuses a caller without an API key with 401 and the reason', async () => {
    const response = await fetch(`${baseUrl}/api/v1/events/stream`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it("streams the caller's organisation's events as snake_case frames, and none of another's", async () => {
    const mine = await newOrganization();
    const theirs = await newOrganization();
    const stream = await open({ Authorization: `Bearer ${mine.key}` });
    try {
      expect(stream.status).toBe(200);
      const ready = await stream.next((f) => f.event === 'ready');
      expect(JSON.parse(ready.data)).toEqual({ organization_id: mine.id });

      // Same connection, so NATS keeps this order: had "theirs" been forwarded it would come first.
      publish(theirs.id, 'ag_theirs');
      publish(mine.id, 'ag_mine');
      const frame = await stream.next((f) => f.event === EventKinds.agentOffline);
      expect(JSON.parse(frame.data)).toMatchObject({
        kind: 'agent.offline',
        organization_id: mine.id,
        agent_id: 'ag_mine',
        environment: 'prod-1',
        data: { last_seen_at: 1_700_000_000_000, silent_for_ms: 30_000 },
      });
      expect(stream.seen.some((f) => f.data.includes('ag_theirs'))).toBe(false);
    } finally {
      stream.close();
    }
  });

  it('ends a stream with a `revoked` frame when its API key is revoked; streams of other keys go on', async () => {
    const org = await newOrganization();
    const other = await rpc.request<IssuedToken>(Subjects.tokens.issue, {
      kind: 'api_key',
      organizationId: org.id,
      name: 'second key',
    });
    const doomed = await open({ Authorization: `Bearer ${org.key}` });
    const staying = await open({ Authorization: `Bearer ${other.secret}` });
    try {
      await doomed.next((f) => f.event === 'ready');
      await staying.next((f) => f.event === 'ready');
      await rpc.request<TokenMetadata>(Subjects.tokens.revoke, {
        organizationId: org.id,
        tokenId: org.keyId,
      });
      const last = await doomed.next((f) => f.event === 'revoked');
      expect(JSON.parse(last.data)).toMatchObject({ code: 'TOKEN_REVOKED' });
      await waitFor('the revoked stream to end', () => doomed.ended);
      publish(org.id, 'ag_after');
      await staying.next((f) => f.event === EventKinds.agentOffline);
      expect(staying.ended).toBe(false);
    } finally {
      doomed.close();
      staying.close();
    }
  });

  it('drops its NATS subscription when the last stream closes', async () => {
    const hub = gateway.get(EventHub);
    const org = await newOrganization();
    const first = await open({ Authorization: `Bearer ${org.key}` });
    const second = await open({ Authorization: `Bearer ${org.key}` });
    await first.next((f) => f.event === 'ready');
    await second.next((f) => f.event === 'ready');
    expect(hub.listenerCount).toBe(2);
    first.close();
    await waitFor('the closed stream to detach', () => hub.listenerCount === 1);
    second.close();
    await waitFor('the last stream to detach', () => hub.listenerCount === 0);
    expect(hub.isSubscribed).toBe(false);
  });

  it('ends open streams when the gateway shuts down, so shutdown does not wait for browsers', async () => {
    const org = await newOrganization();
    const stream = await open({ Authorization: `Bearer ${org.key}` });
    await stream.next((f) => f.event === 'ready');
    gateway.get(EventHub).onModuleDestroy();
    await waitFor('the stream to end', () => stream.ended);
  });
});
