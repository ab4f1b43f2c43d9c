import { INestApplication, INestMicroservice } from '@nestjs/common';
import { connect, NatsConnection } from 'nats';
import request from 'supertest';
import { CachedTokenVerifier } from '@app/auth';
import { loadConfig } from '@app/config';
import { CreatedOrganization, DomainError, ErrorCodes, formatToken, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
// The real token service, in-process, with a clock the test moves.
import { ManualClock } from '@app/clock';
import { startTokensHarness, TokensHarness } from '../../../tokens/test/tokens.harness';
import { startProvisioning } from '../../../provisioning/src/app';
import { ProvisioningConfig } from '../../../provisioning/src/config';
import { createGatewayApp } from '../app';
import { GatewayConfig } from '../config';

const BOOTSTRAP_API_KEY = formatToken('api_key', (n) => Buffer.alloc(n, 9));
const HOUR = 3_600_000;

describe.each(testEngines())('token routes on %s', (engine) => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TokensHarness;
  // Environments live in provisioning: issuing a token creates one there, other routes need it to exist.
  let provisioningDb: TestDatabase;
  let provisioning: INestMicroservice;
  let gateway: INestApplication;
  let nc: NatsConnection;
  let rpc: RpcClient;
  const clock = new ManualClock(Date.now());
  const connections: NatsConnection[] = [];
  const verifiers: CachedTokenVerifier[] = [];
  let orgCount = 0;

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase(engine, 'tokens');
    tokens = await startTokensHarness({
      natsUrl: nats.url,
      env: { ...database.env, BOOTSTRAP_API_KEY },
      clock,
    });
    provisioningDb = await createTestDatabase(engine, 'provisioning');
    provisioning = await startProvisioning(
      loadConfig(ProvisioningConfig, {
        ...provisioningDb.env,
        NATS_URL: nats.url,
        LOG_LEVEL: 'silent',
        METRICS_PORT: '0',
      }),
    );
    gateway = await createGatewayApp(
      loadConfig(GatewayConfig, {
        NATS_URL: nats.url,
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATA_DIR: database.env.DATA_DIR,
      }),
    );
    await gateway.listen(0, '127.0.0.1');
    nc = await connect({ servers: nats.url });
    rpc = new RpcClient(nc, 5000);
  });

  afterAll(async () => {
    verifiers.forEach((v) => v.stop());
    await Promise.all([nc, ...connections].map((c) => c?.close()));
    await gateway?.close();
    await provisioning?.close();
    await tokens?.close();
    await database?.cleanup();
    await provisioningDb?.cleanup();
    await nats?.dispose();
  });

  const http = () => request(gateway.getHttpServer());
  const as = (key: string) => ({ Authorization: `Bearer ${key}` });
  const newOrganization = async () => {
    const created = await rpc.request<CreatedOrganization>(Subjects.tokens.createOrganization, {
      name: `http-${engine}-${++orgCount}`,
    });
    return { id: created.organization.id, key: created.apiKey.secret, keyId: created.apiKey.id };
  };
  /** A verifier on its own connection, like another process; it shares the test's clock. */
  const newVerifier = async () => {
    const connection = await connect({ servers: nats.url });
    connections.push(connection);
    const verifier = new CachedTokenVerifier(new RpcClient(connection, 5000), connection, {
      now: () => clock.now(),
    });
    verifier.start();
    verifiers.push(verifier);
    await connection.flush();
    return verifier;
  };
  const refusal = (verifier: CachedTokenVerifier, token: string) =>
    verifier.verify(token).then(
      () => 'accepted',
      (error: unknown) => (error instanceof DomainError ? error.code : String(error)),
    );

  describe('authentication', () => {
    it('accepts the BOOTSTRAP_API_KEY of the default organisation', async () => {
      const response = await http().get('/api/v1/api-keys').set(as(BOOTSTRAP_API_KEY)).expect(200);
      expect(response.body.api_keys).toHaveLength(1);
      expect(response.body.api_keys[0]).toMatchObject({ kind: 'api_key', name: 'initial key' });
      expect(JSON.stringify(response.body)).not.toContain(BOOTSTRAP_API_KEY);
    });

    it.each([
      ['no Authorization header', undefined, ErrorCodes.UNAUTHENTICATED],
      ['a Basic header', 'Basic dXNlcjpwYXNz', ErrorCodes.UNAUTHENTICATED],
      ['a malformed key', 'Bearer rca_ak_nope', ErrorCodes.TOKEN_MALFORMED],
      [
        'a forged checksum',
        `Bearer ${BOOTSTRAP_API_KEY.slice(0, -1)}${BOOTSTRAP_API_KEY.endsWith('A') ? 'B' : 'A'}`,
        ErrorCodes.TOKEN_MALFORMED,
      ],
      [
        'an unknown key',
        `Bearer ${formatToken('api_key', (n) => Buffer.alloc(n, 3))}`,
        ErrorCodes.TOKEN_UNKNOWN,
      ],
      [
        'an enrollment token',
        `Bearer ${formatToken('enrollment', (n) => Buffer.alloc(n, 3))}`,
        ErrorCodes.TOKEN_WRONG_KIND,
      ],
    ])('answers 401 with a reason for %s', async (_case, header, code) => {
      const call = http().get('/api/v1/environments/prod-1/tokens');
      const response = await (header ? call.set('Authorization', header) : call).expect(401);
      expect(response.body).toMatchObject({ statusCode: 401, code });
      expect(response.body.message).toEqual(expect.any(String));
    });

    it('refuses a revoked API key within a second', async () => {
      const org = await newOrganization();
      const created = await http().post('/api/v1/api-keys').set(as(org.key)).send({ name: 'ci' }).expect(201);
      const second: string = created.body.secret;
      expect(second).toMatch(/^rca_ak_/);
      await http().get('/api/v1/api-keys').set(as(second)).expect(200);

      await http().delete(`/api/v1/api-keys/${created.body.id}`).set(as(org.key)).expect(200);
      await waitFor(
        'the gateway to refuse the revoked key',
        async () => {
          const response = await http().get('/api/v1/api-keys').set(as(second));
          return response.status === 401 && response.body.code === ErrorCodes.TOKEN_REVOKED;
        },
        1000,
        20,
      );
    });
  });

  describe('enrollment tokens', () => {
    it('issue → verify → rotate → old valid in grace → revoke → refused everywhere within a second', async () => {
      const org = await newOrganization();
      const [ingestion, provisioning] = [await newVerifier(), await newVerifier()];

      const issued = await http()
        .post('/api/v1/environments/prod-1/tokens')
        .set(as(org.key))
        .send({ name: 'laptops', max_uses: 10 })
        .expect(201);
      expect(issued.body).toMatchObject({
        kind: 'enrollment',
        organization_id: org.id,
        environment: 'prod-1',
        name: 'laptops',
        max_uses: 10,
        uses: 0,
        revoked_at: null,
      });
      const oldSecret: string = issued.body.secret;
      await expect(ingestion.verify(oldSecret, 'enrollment')).resolves.toMatchObject({
        tokenId: issued.body.id,
      });

      const listed = await http().get('/api/v1/environments/prod-1/tokens').set(as(org.key)).expect(200);
      expect(listed.body.tokens.map((t: { id: string }) => t.id)).toEqual([issued.body.id]);
      expect(JSON.stringify(listed.body)).not.toContain(oldSecret);

      const rotated = await http()
        .post(`/api/v1/environments/prod-1/tokens/${issued.body.id}/rotate`)
        .set(as(org.key))
        .send({ grace_period_seconds: 3600 })
        .expect(201);
      const newSecret: string = rotated.body.token.secret;
      expect(rotated.body.previous).toMatchObject({ id: issued.body.id, replaced_by: rotated.body.token.id });
      expect(rotated.body.previous.grace_until).toBe(new Date(clock.now() + HOUR).toISOString());
      for (const verifier of [ingestion, provisioning]) {
        await expect(verifier.verify(oldSecret)).resolves.toMatchObject({ tokenId: issued.body.id });
        await expect(verifier.verify(newSecret)).resolves.toMatchObject({ tokenId: rotated.body.token.id });
      }

      await http()
        .delete(`/api/v1/environments/prod-1/tokens/${rotated.body.token.id}`)
        .set(as(org.key))
        .expect(200);
      await http()
        .delete(`/api/v1/environments/prod-1/tokens/${issued.body.id}`)
        .set(as(org.key))
        .expect(200);
      const revokedAt = Date.now();
      await waitFor(
        'both caches to refuse both secrets',
        async () => {
          const codes = await Promise.all(
            [ingestion, provisioning].flatMap((v) => [refusal(v, oldSecret), refusal(v, newSecret)]),
          );
          return codes.every((code) => code === ErrorCodes.TOKEN_REVOKED);
        },
        1000,
        20,
      );
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      const afterRevoke = await http().get('/api/v1/environments/prod-1/tokens').set(as(org.key)).expect(200);
      expect(afterRevoke.body.tokens).toEqual([]);
      const withRevoked = await http()
        .get('/api/v1/environments/prod-1/tokens?include_revoked=true')
        .set(as(org.key))
        .expect(200);
      expect(withRevoked.body.tokens).toHaveLength(2);
    });

    it('stops accepting the old secret when the rotation grace period ends', async () => {
      const org = await newOrganization();
      const verifier = await newVerifier();
      const issued = await http()
        .post('/api/v1/environments/prod-1/tokens')
        .set(as(org.key))
        .send({})
        .expect(201);
      const rotated = await http()
        .post(`/api/v1/environments/prod-1/tokens/${issued.body.id}/rotate`)
        .set(as(org.key))
        .send({ grace_period_seconds: 60 })
        .expect(201);
      await expect(verifier.verify(issued.body.secret)).resolves.toMatchObject({ tokenId: issued.body.id });
      clock.advance(60_000);
      expect(await refusal(verifier, issued.body.secret)).toBe(ErrorCodes.TOKEN_EXPIRED);
      expect(await refusal(verifier, rotated.body.token.secret)).toBe('accepted');
    });

    it('refuses an enrollment token after its expiry', async () => {
      const org = await newOrganization();
      const verifier = await newVerifier();
      const issued = await http()
        .post('/api/v1/environments/prod-1/tokens')
        .set(as(org.key))
        .send({ expires_at: new Date(clock.now() + HOUR).toISOString() })
        .expect(201);
      expect(await refusal(verifier, issued.body.secret)).toBe('accepted');
      clock.advance(HOUR);
      expect(await refusal(verifier, issued.body.secret)).toBe(ErrorCodes.TOKEN_EXPIRED);
    });

    it("does not let one organisation see, revoke or rotate another's tokens", async () => {
      const a = await newOrganization();
      const b = await newOrganization();
      const issued = await http()
        .post('/api/v1/environments/prod-1/tokens')
        .set(as(a.key))
        .send({})
        .expect(201);
      const id: string = issued.body.id;

      // B has no environment prod-1: not found, rather than an empty list of a phantom.
      await http().get('/api/v1/environments/prod-1/tokens').set(as(b.key)).expect(404);
      const revoke = await http()
        .delete(`/api/v1/environments/prod-1/tokens/${id}`)
        .set(as(b.key))
        .expect(404);
      expect(revoke.body).toMatchObject({ statusCode: 404, code: ErrorCodes.NOT_FOUND });
      await http()
        .post(`/api/v1/environments/prod-1/tokens/${id}/rotate`)
        .set(as(b.key))
        .send({})
        .expect(404);
      await http().delete(`/api/v1/api-keys/${a.keyId}`).set(as(b.key)).expect(404);
      // Nor is it reachable through another environment, or as an API key, of its own organisation.
      await http().delete(`/api/v1/environments/staging/tokens/${id}`).set(as(a.key)).expect(404);
      await http().delete(`/api/v1/api-keys/${id}`).set(as(a.key)).expect(404);

      const listedByA = await http().get('/api/v1/environments/prod-1/tokens').set(as(a.key)).expect(200);
      expect(listedByA.body.tokens[0]).toMatchObject({ id, revoked_at: null });
    });

    it.each([
      ['a usage limit of zero', { max_uses: 0 }, 'max_uses'],
      ['an expiry that is not a date', { expires_at: 'tomorrow' }, 'expires_at'],
      // Named as the client sent it, not renamed.
      ['a camelCase field', { maxUses: 3 }, 'maxUses'],
      ['a name that is not text', { name: 42 }, 'name'],
    ])('answers 400 naming the field for %s', async (_case, body, field) => {
      const org = await newOrganization();
      const response = await http()
        .post('/api/v1/environments/prod-1/tokens')
        .set(as(org.key))
        .send(body)
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: ErrorCodes.VALIDATION_FAILED });
      expect(new Set(response.body.errors.map((e: { field: string }) => e.field))).toEqual(new Set([field]));
    });

    it('answers 400 naming the field for an expiry in the past and for a bad environment name', async () => {
      const org = await newOrganization();
      const past = await http()
        .post('/api/v1/environments/prod-1/tokens')
        .set(as(org.key))
        .send({ expires_at: new Date(clock.now() - 1000).toISOString() })
        .expect(400);
      // The token service's own refusal, under the name the API uses.
      expect(past.body.errors).toEqual([{ field: 'expires_at', reason: 'must be in the future' }]);
      const badEnv = await http().get('/api/v1/environments/Prod_1/tokens').set(as(org.key)).expect(400);
      expect(badEnv.body.errors.map((e: { field: string }) => e.field)).toEqual(['env']);
      const badGrace = await http()
        .post('/api/v1/environments/prod-1/tokens/x/rotate')
        .set(as(org.key))
        .send({ grace_period_seconds: -5 })
        .expect(400);
      expect(badGrace.body.errors.map((e: { field: string }) => e.field)).toEqual(['grace_period_seconds']);
    });
  });

  it('documents the token and API key routes in OpenAPI', async () => {
    const response = await http().get('/docs-json').expect(200);
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/environments/{env}/tokens',
        '/api/v1/environments/{env}/tokens/{id}',
        '/api/v1/environments/{env}/tokens/{id}/rotate',
        '/api/v1/api-keys',
        '/api/v1/api-keys/{id}',
      ]),
    );
  });
});
