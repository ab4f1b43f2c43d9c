import { connect, NatsConnection } from 'nats';
import {
  CreatedOrganization,
  DomainError,
  ErrorCodes,
  IssuedToken,
  RotatedToken,
  Subjects,
  TokenMetadata,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import {
  createTestDatabase,
  CuttableLink,
  NatsServerHandle,
  startNatsServer,
  storedEvents,
  TestDatabase,
  waitFor,
} from '@app/testing';
// The real token service answers the verifier: the cache is only worth testing against it.
import { startTokensHarness, TokensHarness } from '../../../apps/tokens/test/tokens.harness';
import { CachedTokenVerifier } from './cached-token-verifier';

describe(CachedTokenVerifier.name, () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TokensHarness;
  let admin: NatsConnection;
  let rpc: RpcClient;
  const connections: NatsConnection[] = [];
  const verifiers: CachedTokenVerifier[] = [];
  let organizationId: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase('sqlite', 'tokens');
    tokens = await startTokensHarness({ natsUrl: nats.url, env: database.env });
    admin = await connect({ servers: nats.url });
    rpc = new RpcClient(admin, 5000);
    const created = await rpc.request<CreatedOrganization>(Subjects.tokens.createOrganization, {
      name: 'acme',
    });
    organizationId = created.organization.id;
  });

  afterAll(async () => {
    verifiers.forEach((v) => v.stop());
    await Promise.all([admin, ...connections].map((c) => c?.close()));
    await tokens?.close();
    await database?.cleanup();
    await nats?.dispose();
  });

  /** A verifier with its own connection, as in a separate process (gateway, ingestion). */
  const newVerifier = async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    const verifier = new CachedTokenVerifier(new RpcClient(nc, 5000), nc);
    verifier.start();
    verifiers.push(verifier);
    // The subscription must reach the server before the event is published.
    await nc.flush();
    return verifier;
  };
  /** A token to verify, named so the test can tell answers apart. */
  const issueToken = (name: string) =>
    rpc.request<IssuedToken>(Subjects.tokens.issue, {
      kind: 'enrollment',
      organizationId,
      environment: 'prod-1',
      name,
    });
  const refusal = (verifier: CachedTokenVerifier, token: string) =>
    verifier.verify(token).then(
      () => undefined,
      (error: unknown) => (error instanceof DomainError ? error.code : String(error)),
    );

  it('answers a repeated check from its cache without asking the token service', async () => {
    const verifier = await newVerifier();
    const credential = await issueToken('cached-1');
    expect(verifier.peek(credential.secret)).toBeUndefined();
    const first = await verifier.verify(credential.secret, 'enrollment');
    expect(verifier.peek(credential.secret)).toEqual(first);
    expect(first).toMatchObject({ tokenId: credential.id, environment: 'prod-1', kind: 'enrollment' });
  });

  it('after a reconnect re-checks its entries spread over a window, not all at once', async () => {
    let now = Date.UTC(2030, 0, 1);
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    const verifier = new CachedTokenVerifier(new RpcClient(nc, 5000), nc, { now: () => now });
    const credentials = await Promise.all(['spread-1', 'spread-2', 'spread-3'].map(issueToken));
    for (const c of credentials) await verifier.verify(c.secret);
    const spreads = [0.1, 0.5, 0.9];
    verifier.expireWithin(10_000, () => spreads.shift() ?? 0);
    now += 2_000;
    expect(credentials.map((c) => verifier.peek(c.secret) !== undefined)).toEqual([false, true, true]);
    now += 5_000;
    expect(credentials.map((c) => verifier.peek(c.secret) !== undefined)).toEqual([false, false, true]);
    now += 3_000;
    expect(credentials.map((c) => verifier.peek(c.secret) !== undefined)).toEqual([false, false, false]);
  });

  it('refuses a revoked token in every process within a second', async () => {
    const [gateway, ingestion] = [await newVerifier(), await newVerifier()];
    const credential = await issueToken('revoked-1');
    await gateway.verify(credential.secret);
    await ingestion.verify(credential.secret);

    const revokedAt = Date.now();
    await rpc.request<TokenMetadata>(Subjects.tokens.revoke, { organizationId, tokenId: credential.id });
    await waitFor(
      'both caches to refuse the revoked token',
      async () => {
        const codes = await Promise.all([
          refusal(gateway, credential.secret),
          refusal(ingestion, credential.secret),
        ]);
        return codes.every((code) => code === ErrorCodes.TOKEN_REVOKED);
      },
      1000,
      20,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });

  it('applies a revocation it missed while disconnected from EVENTS as soon as it is back, not after a cache lifetime', async () => {
    // Its link to NATS runs through a forwarder the test cuts; its clock stands still, so no entry
    // expires by itself: only reading the missed event from the stream can refuse the token.
    const link = await CuttableLink.open(() => nats.port);
    const nc = await connect({
      servers: `nats://127.0.0.1:${link.port}`,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    });
    connections.push(nc);
    const now = Date.now();
    const verifier = new CachedTokenVerifier(new RpcClient(nc, 5000), nc, { now: () => now });
    verifier.start();
    verifiers.push(verifier);
    try {
      await verifier.reading;
      const credential = await issueToken('missed-1');
      await verifier.verify(credential.secret);

      link.cutOff();
      await rpc.request<TokenMetadata>(Subjects.tokens.revoke, { organizationId, tokenId: credential.id });
      // Stored in EVENTS while the verifier could hear nothing.
      await waitFor('the revocation stored', async () =>
        (await storedEvents(admin, 'token.revoked')).some(
          (e) => (e.data as { tokenId?: string }).tokenId === credential.id,
        ),
      );
      expect(verifier.peek(credential.secret)).toMatchObject({ tokenId: credential.id });

      link.heal();
      const backAt = await waitFor(
        'the reconnect',
        async () =>
          !nc.isClosed() &&
          (await nc.flush().then(
            () => Date.now(),
            () => 0,
          )),
      );
      await waitFor(
        'the missed revocation applied',
        async () => (await refusal(verifier, credential.secret)) === ErrorCodes.TOKEN_REVOKED,
        5000,
        20,
      );
      expect(Date.now() - backAt).toBeLessThan(1000);
    } finally {
      verifier.stop();
      await link.close();
    }
  });

  it('stops accepting a rotated token when its grace period is zero', async () => {
    const verifier = await newVerifier();
    const credential = await issueToken('rotated-1');
    await verifier.verify(credential.secret);
    const rotated = await rpc.request<RotatedToken>(Subjects.tokens.rotate, {
      organizationId,
      tokenId: credential.id,
      gracePeriodSeconds: 0,
    });
    await waitFor(
      'the cache to drop the rotated token',
      async () => {
        return (await refusal(verifier, credential.secret)) === ErrorCodes.TOKEN_EXPIRED;
      },
      1000,
      20,
    );
    await expect(verifier.verify(rotated.token.secret)).resolves.toMatchObject({ tokenId: rotated.token.id });
  });

  it('rejects malformed and wrong-kind tokens locally', async () => {
    const verifier = await newVerifier();
    const credential = await issueToken('kind-1');
    expect(await refusal(verifier, 'rca_ac_nope')).toBe(ErrorCodes.TOKEN_MALFORMED);
    await expect(verifier.verify(credential.secret, 'api_key')).rejects.toMatchObject({
      code: ErrorCodes.TOKEN_WRONG_KIND,
    });
  });

  it('sends concurrent misses as one verifyMany per 500 tokens and gives every caller its own answer', async () => {
    const verifier = await newVerifier();
    const issued = await Promise.all(Array.from({ length: 1_200 }, (_, i) => issueToken(`batch-${i}`)));
    const revoked = issued[700];
    await rpc.request(Subjects.tokens.revoke, { organizationId, tokenId: revoked.id });
    const requests = { verify: 0, verifyMany: 0 };
    const observer = await connect({ servers: nats.url });
    connections.push(observer);
    observer.subscribe(Subjects.tokens.verify, { callback: () => requests.verify++ });
    observer.subscribe(Subjects.tokens.verifyMany, { callback: () => requests.verifyMany++ });
    await observer.flush();

    const answers = await Promise.all(
      issued.map((credential) =>
        verifier.verify(credential.secret, 'enrollment').then(
          (token) => token.tokenId,
          (error: DomainError) => error.code,
        ),
      ),
    );

    expect(answers).toEqual(issued.map((c) => (c === revoked ? ErrorCodes.TOKEN_REVOKED : c.id)));
    await observer.flush();
    expect(requests).toEqual({ verify: 0, verifyMany: Math.ceil(1_200 / 500) });
  });

  it('gives every caller of a failed batch the transport error and remembers none of them', async () => {
    const elsewhere = await startNatsServer();
    const nc = await connect({ servers: elsewhere.url });
    try {
      // No token service listens on this server: the batch request finds no responder.
      const verifier = new CachedTokenVerifier(new RpcClient(nc, 300), nc);
      const issued = await Promise.all(['lost-1', 'lost-2', 'lost-3'].map(issueToken));
      const codes = await Promise.all(issued.map((c) => refusal(verifier, c.secret)));
      expect(codes).toEqual([ErrorCodes.UNAVAILABLE, ErrorCodes.UNAVAILABLE, ErrorCodes.UNAVAILABLE]);
      expect(issued.map((c) => verifier.peek(c.secret))).toEqual([undefined, undefined, undefined]);
    } finally {
      await nc.close();
      await elsewhere.dispose();
    }
  });

  it('keeps at most maxEntries answers', async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    const verifier = new CachedTokenVerifier(new RpcClient(nc, 5000), nc, { maxEntries: 2 });
    const issued = await Promise.all(['m1', 'm2', 'm3'].map(issueToken));
    for (const credential of issued) await verifier.verify(credential.secret);
    expect(verifier.size).toBe(2);
    expect(verifier.peek(issued[0].secret)).toBeUndefined();
    expect(verifier.peek(issued[2].secret)).toMatchObject({ tokenId: issued[2].id });
  });
});
