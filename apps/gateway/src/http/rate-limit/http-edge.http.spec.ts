import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NatsConnection } from 'nats';
import request from 'supertest';
import { loadConfig } from '@app/config';
import { CreatedOrganization, CreateOrganizationRequest, formatToken, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { createTestDatabase, NatsServerHandle, startNatsServer, TestDatabase, waitFor } from '@app/testing';
import { startTokensHarness, TokensHarness } from '../../../../tokens/test/tokens.harness';
import { createGatewayApp } from '../../app';
import { GatewayConfig } from '../../config';

/**
 * The API's rate limits on a secured bus, with two gateway instances: the counts live in NATS KV, so a
 * client cannot get twice the limit by spreading its requests over instances.
 */
describe('API rate limits (two gateway instances, one NATS KV)', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TokensHarness;
  let nc: NatsConnection;
  const gateways: INestApplication[] = [];
  let orgCount = 0;

  beforeAll(async () => {
    nats = await startNatsServer({ secured: true });
    const bus = nats.bus!;
    database = await createTestDatabase('sqlite', 'tokens');
    tokens = await startTokensHarness({ natsUrl: nats.url, env: database.env, bus });
    for (let i = 0; i < 2; i++) {
      const gateway = await createGatewayApp(
        loadConfig(GatewayConfig, {
          NATS_URL: nats.url,
          NATS_CREDS: bus.credsFile('gateway'),
          NATS_CA_FILE: bus.caFile,
          PORT: '0',
          LOG_LEVEL: 'silent',
          RATE_LIMIT_PER_KEY_PER_MINUTE: '6',
          RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000',
          RATE_LIMIT_FAILED_AUTH_PER_MINUTE: '3',
        }),
      );
      await gateway.listen(0, '127.0.0.1');
      gateways.push(gateway);
    }
    nc = await bus.connect('admin');
  });

  afterAll(async () => {
    await nc?.close();
    for (const gateway of gateways) await gateway.close();
    await tokens?.close();
    await database?.cleanup();
    await nats?.dispose();
  });

  const newKey = async () => {
    const created = await new RpcClient(nc, 5000).request<CreatedOrganization, CreateOrganizationRequest>(
      Subjects.tokens.createOrganization,
      { name: `limits-${++orgCount}` },
    );
    return created.apiKey.secret;
  };
  const get = (instance: number, key?: string) =>
    request(gateways[instance].getHttpServer())
      .get('/api/v1/api-keys')
      .set(key ? { Authorization: `Bearer ${key}` } : {});

  it('answers 429 with Retry-After once a key has used its requests per minute, counted across instances', async () => {
    const key = await newKey();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(i % 2, key)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    for (const instance of [0, 1]) {
      const refused = await get(instance, key);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
      expect(refused.body.message).toMatch(/6 requests per minute for this API key/);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Another key is not affected.
    expect((await get(0, await newKey())).status).toBe(200);
  });

  // Before the bad-keys test below blocks this address: then only known-good keys get past the headers.
  it('refuses an API body over API_BODY_LIMIT_KB with 413, while the intake takes its large batches', async () => {
    const key = await newKey();
    const big = JSON.stringify({ name: 'x'.repeat(300 * 1024) });
    const refused = await request(gateways[1].getHttpServer())
      .post('/api/v1/api-keys')
      .set({ Authorization: `Bearer ${key}`, 'content-type': 'application/json' })
      .send(big);
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ statusCode: 413 });
    // 1 MiB to the intake passes the parser and is judged by the intake itself (an unsigned request).
    const intake = await request(gateways[1].getHttpServer())
      .post('/api/v1/intake/metrics')
      .set({ 'content-type': 'application/json' })
      .send(JSON.stringify({ samples: 'x'.repeat(1024 * 1024) }));
    expect(intake.status).not.toBe(413);
  });

  it('after a few bad keys from one address, that address waits: 429 before any new key is looked up', async () => {
    // Someone at this address already works with a good key (verified by both instances).
    const colleague = await newKey();
    expect((await get(0, colleague)).status).toBe(200);
    expect((await get(1, colleague)).status).toBe(200);

    const guesses = [0, 1, 2].map(() => formatToken('api_key', randomBytes));
    const statuses: number[] = [];
    for (const [i, guess] of guesses.entries()) statuses.push((await get(i % 2, guess)).status);
    expect(statuses).toEqual([401, 401, 401]);
    for (const instance of [0, 1]) {
      const next = await get(instance, formatToken('api_key', randomBytes));
      expect(next.status).toBe(429);
      expect(next.body.message).toMatch(/too many failed authentications from this address/);
      expect(Number(next.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // A key not seen before waits out the minute too; the colleague's known-good key goes on working.
    expect((await get(0, await newKey())).status).toBe(429);
    expect((await get(1, colleague)).status).toBe(200);
  });

  it('answers a write without a valid key from its headers alone, before its body has been sent', async () => {
    const { port } = gateways[0].getHttpServer().address() as AddressInfo;
    // Announces 200 KiB and sends none of it: a server that parsed first would wait for the body.
    const answer = await new Promise<{ status: number; connection?: string; body: string }>(
      (resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/api-keys',
          headers: { 'content-type': 'application/json', 'content-length': String(200 * 1024) },
          timeout: 5000,
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
          );
        });
        req.on('timeout', () => reject(new Error('no answer while the body was withheld')));
        req.on('error', reject);
        req.flushHeaders();
      },
    );
    expect(answer.status).toBe(401);
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
  });

  it('keeps answering while its counters are gone (NATS restarted: the memory bucket is lost), then limits again', async () => {
    const key = await newKey();
    await nats.restart();
    // The requests right after the restart are answered (not limited, not failed), and the bucket is re-made.
    await waitFor(
      'the API through the restarted bus',
      async () => (await get(0, key)).status === 200,
      15_000,
    );
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(i % 2, key)).status);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    await waitFor('the limit enforced again', async () => (await get(1, key)).status === 429, 15_000);
  });

  it('does not limit health checks', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await request(gateways[0].getHttpServer()).get('/health');
      expect(res.status).not.toBe(429);
    }
  });
});
