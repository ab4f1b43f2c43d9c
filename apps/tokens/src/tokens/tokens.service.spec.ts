import { randomBytes } from 'node:crypto';
import { connect, JSONCodec, NatsConnection } from 'nats';
import {
  CreatedOrganization,
  DomainError,
  ErrorCodes,
  EventEnvelope,
  formatToken,
  IssuedToken,
  IssueTokenRequest,
  RotatedToken,
  Streams,
  Subjects,
  TokenMetadata,
  VerifiedToken,
  VerifyManyTokensReply,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
} from '@app/testing';
import { ManualClock } from '@app/clock';
import { startTokensHarness, TokensHarness } from '../../test/tokens.harness';

const HOUR = 3_600_000;

describe.each(testEngines())('tokens service on %s', (engine) => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TokensHarness;
  let nc: NatsConnection;
  let rpc: RpcClient;
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let organizationCount = 0;

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase(engine, 'tokens');
    tokens = await startTokensHarness({ natsUrl: nats.url, env: database.env, clock });
    nc = await connect({ servers: nats.url });
    rpc = new RpcClient(nc, 5000);
  });

  afterAll(async () => {
    await nc?.close();
    await tokens?.close();
    await database?.cleanup();
    await nats?.dispose();
  });

  const createOrganization = (name = `org-${engine}-${++organizationCount}`) =>
    rpc.request<CreatedOrganization>(Subjects.tokens.createOrganization, { name });
  const issue = (request: IssueTokenRequest) => rpc.request<IssuedToken>(Subjects.tokens.issue, request);
  const verify = (token: string, extra: Record<string, unknown> = {}) =>
    rpc.request<VerifiedToken>(Subjects.tokens.verify, { token, ...extra });
  const errorCodeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'resolved',
      (error: unknown) => (error instanceof DomainError ? error.code : String(error)),
    );

  it('issues an enrollment token whose secret verifies to its organisation and environment', async () => {
    const { organization } = await createOrganization();
    const expiresAt = new Date(clock.now() + 2 * HOUR).toISOString();
    const issued = await issue({
      kind: 'enrollment',
      organizationId: organization.id,
      environment: 'prod-1',
      name: 'laptops',
      expiresAt,
      maxUses: 5,
    });
    expect(issued.secret).toMatch(/^rca_et_[0-9A-Za-z]{28}$/);
    expect(issued.hint).toBe(`${issued.secret.slice(0, 11)}…`);

    await expect(verify(issued.secret)).resolves.toEqual({
      tokenId: issued.id,
      kind: 'enrollment',
      organizationId: organization.id,
      environment: 'prod-1',
      expiresAt,
      scope: null,
    });
  });

  it('lists metadata only, never a secret or a hash', async () => {
    const { organization, apiKey } = await createOrganization();
    await issue({ kind: 'enrollment', organizationId: organization.id, environment: 'staging' });
    const listed = await rpc.request<TokenMetadata[]>(Subjects.tokens.list, {
      organizationId: organization.id,
    });
    expect(listed.map((t) => t.kind).sort()).toEqual(['api_key', 'enrollment']);
    const text = JSON.stringify(listed);
    expect(text).not.toContain(apiKey.secret);
    expect(listed.every((t) => !('secret' in t) && !('hash' in t))).toBe(true);
  });

  it('rejects a malformed token and a forged checksum without knowing them', async () => {
    const { apiKey } = await createOrganization();
    const lastChar = apiKey.secret.at(-1);
    const forged = apiKey.secret.slice(0, -1) + (lastChar === 'A' ? 'B' : 'A');
    expect(await errorCodeOf(verify('not-a-token'))).toBe(ErrorCodes.TOKEN_MALFORMED);
    expect(await errorCodeOf(verify(forged))).toBe(ErrorCodes.TOKEN_MALFORMED);
  });

  it('answers unknown for a well-formed token it never issued', async () => {
    const stranger = formatToken('enrollment', (n) => Buffer.alloc(n, 7));
    expect(await errorCodeOf(verify(stranger))).toBe(ErrorCodes.TOKEN_UNKNOWN);
  });

  it('refuses a token of another kind than the caller expects', async () => {
    const { apiKey } = await createOrganization();
    expect(await errorCodeOf(verify(apiKey.secret, { expectedKind: 'enrollment' }))).toBe(
      ErrorCodes.TOKEN_WRONG_KIND,
    );
  });

  it('refuses a token once its expiry has passed', async () => {
    const { organization } = await createOrganization();
    const issued = await issue({
      kind: 'enrollment',
      organizationId: organization.id,
      environment: 'prod-1',
      expiresAt: new Date(clock.now() + HOUR).toISOString(),
    });
    await verify(issued.secret);
    clock.advance(HOUR);
    expect(await errorCodeOf(verify(issued.secret))).toBe(ErrorCodes.TOKEN_EXPIRED);
  });

  it('keeps the old secret valid during the rotation grace period and refuses it afterwards', async () => {
    const { organization } = await createOrganization();
    const old = await issue({ kind: 'enrollment', organizationId: organization.id, environment: 'prod-1' });
    const rotated = await rpc.request<RotatedToken>(Subjects.tokens.rotate, {
      organizationId: organization.id,
      tokenId: old.id,
      gracePeriodSeconds: 600,
    });
    const graceUntil = new Date(clock.now() + 600_000).toISOString();
    expect(rotated.previous).toMatchObject({ id: old.id, graceUntil, replacedBy: rotated.token.id });
    expect(rotated.token).toMatchObject({ kind: 'enrollment', environment: 'prod-1' });
    expect(rotated.token.secret).not.toBe(old.secret);

    // The effective expiry is the grace end, so caches drop the old secret on time.
    await expect(verify(old.secret)).resolves.toMatchObject({ tokenId: old.id, expiresAt: graceUntil });
    await expect(verify(rotated.token.secret)).resolves.toMatchObject({
      tokenId: rotated.token.id,
      expiresAt: null,
    });

    clock.advance(600_000);
    expect(await errorCodeOf(verify(old.secret))).toBe(ErrorCodes.TOKEN_EXPIRED);
    await expect(verify(rotated.token.secret)).resolves.toMatchObject({ tokenId: rotated.token.id });
  });

  it('uses TOKEN_ROTATION_GRACE_SECONDS when the request names no grace period', async () => {
    const { organization } = await createOrganization();
    const old = await issue({ kind: 'enrollment', organizationId: organization.id, environment: 'prod-1' });
    const rotated = await rpc.request<RotatedToken>(Subjects.tokens.rotate, {
      organizationId: organization.id,
      tokenId: old.id,
    });
    expect(rotated.previous.graceUntil).toBe(new Date(clock.now() + 86_400_000).toISOString());
  });

  it('refuses to rotate a token twice', async () => {
    const { organization } = await createOrganization();
    const old = await issue({ kind: 'enrollment', organizationId: organization.id, environment: 'prod-1' });
    const ref = { organizationId: organization.id, tokenId: old.id };
    await rpc.request(Subjects.tokens.rotate, ref);
    expect(await errorCodeOf(rpc.request(Subjects.tokens.rotate, ref))).toBe(ErrorCodes.CONFLICT);
  });

  it('revokes a token, refuses it afterwards and announces it on the EVENTS stream', async () => {
    const { organization } = await createOrganization();
    const issued = await issue({
      kind: 'enrollment',
      organizationId: organization.id,
      environment: 'prod-1',
      name: 'laptop installs',
    });
    await verify(issued.secret);
    const revoked = await rpc.request<TokenMetadata>(Subjects.tokens.revoke, {
      organizationId: organization.id,
      tokenId: issued.id,
      reason: 'laptop stolen',
    });
    expect(revoked.revokedAt).toBe(new Date(clock.now()).toISOString());
    expect(await errorCodeOf(verify(issued.secret))).toBe(ErrorCodes.TOKEN_REVOKED);

    const jsm = await nc.jetstreamManager();
    const stored = await jsm.streams.getMessage(Streams.events, {
      last_by_subj: Subjects.event('token.revoked'),
    });
    const event = JSONCodec<EventEnvelope>().decode(stored.data);
    expect(event).toMatchObject({
      kind: 'token.revoked',
      organizationId: organization.id,
      environment: 'prod-1',
      data: { tokenId: issued.id, kind: 'enrollment', reason: 'laptop stolen' },
    });
  });

  it('counts enrollment uses atomically and refuses the token once they are spent', async () => {
    const { organization } = await createOrganization();
    const issued = await issue({
      kind: 'enrollment',
      organizationId: organization.id,
      environment: 'prod-1',
      maxUses: 3,
    });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => errorCodeOf(verify(issued.secret, { consume: true }))),
    );
    expect(outcomes.filter((o) => o === 'resolved')).toHaveLength(3);
    expect(outcomes.filter((o) => o === ErrorCodes.TOKEN_EXHAUSTED)).toHaveLength(3);
    const [listed] = await rpc.request<TokenMetadata[]>(Subjects.tokens.list, {
      organizationId: organization.id,
      kind: 'enrollment',
    });
    expect(listed.uses).toBe(3);
  });

  it('answers a verifyMany of valid, unknown, revoked, expired, wrong-kind and malformed tokens each as verify would, in order', async () => {
    const { organization, apiKey } = await createOrganization();
    const agent = (name: string, extra: Partial<IssueTokenRequest> = {}) =>
      issue({ kind: 'enrollment', organizationId: organization.id, environment: 'prod-1', name, ...extra });
    const [valid, revoked, expiring, old] = await Promise.all([
      agent('many-valid'),
      agent('many-revoked'),
      agent('many-expiring', { expiresAt: new Date(clock.now() + HOUR).toISOString() }),
      agent('many-rotated'),
    ]);
    await rpc.request(Subjects.tokens.revoke, { organizationId: organization.id, tokenId: revoked.id });
    const rotated = await rpc.request<RotatedToken>(Subjects.tokens.rotate, {
      organizationId: organization.id,
      tokenId: old.id,
      gracePeriodSeconds: (2 * HOUR) / 1000,
    });
    clock.advance(HOUR);
    const items = [
      { token: valid.secret },
      { token: formatToken('enrollment', (n) => Buffer.alloc(n, 9)) },
      { token: revoked.secret },
      { token: expiring.secret },
      { token: apiKey.secret, expectedKind: 'enrollment' },
      { token: 'rca_et_not-a-token' },
      { token: old.secret, expectedKind: 'enrollment' },
      { token: rotated.token.secret },
      { token: valid.secret },
    ];

    const { results } = await rpc.request<VerifyManyTokensReply>(Subjects.tokens.verifyMany, { items });

    const names = new Map([valid, revoked, expiring, old, rotated.token].map((t) => [t.id, t.name]));
    names.set(rotated.token.id, 'many-rotated');
    expect(results.map((r) => (r.ok ? names.get(r.value.tokenId) : r.error.code))).toEqual([
      'many-valid',
      ErrorCodes.TOKEN_UNKNOWN,
      ErrorCodes.TOKEN_REVOKED,
      ErrorCodes.TOKEN_EXPIRED,
      ErrorCodes.TOKEN_WRONG_KIND,
      ErrorCodes.TOKEN_MALFORMED,
      'many-rotated',
      'many-rotated',
      'many-valid',
    ]);
    const one = await Promise.all(
      items.map(({ token, expectedKind }) =>
        verify(token, { expectedKind }).then(
          (value) => ({ ok: true, value }),
          (error: DomainError) => ({ ok: false, error: { code: error.code, message: error.message } }),
        ),
      ),
    );
    expect(results).toEqual(one);
  });

  it('records the last use of the tokens a verifyMany accepted', async () => {
    const { organization } = await createOrganization();
    const issued = await issue({
      kind: 'enrollment',
      organizationId: organization.id,
      environment: 'prod-1',
      name: 'many-used',
    });
    await rpc.request(Subjects.tokens.verifyMany, { items: [{ token: issued.secret }] });
    const [listed] = await rpc.request<TokenMetadata[]>(Subjects.tokens.list, {
      organizationId: organization.id,
      kind: 'enrollment',
    });
    expect(listed.lastUsedAt).toBe(new Date(clock.now()).toISOString());
  });

  it('refuses a verifyMany of more than 500 tokens, naming the field', async () => {
    const items = Array.from({ length: 501 }, () => ({ token: formatToken('enrollment', randomBytes) }));
    const error = await rpc.request(Subjects.tokens.verifyMany, { items }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect((error as DomainError).errors?.map((e) => e.field)).toEqual(['items']);
  });

  it("does not let one organisation see, revoke or rotate another's tokens", async () => {
    const a = await createOrganization();
    const b = await createOrganization();
    const token = await issue({
      kind: 'enrollment',
      organizationId: a.organization.id,
      environment: 'prod-1',
    });
    const asB = { organizationId: b.organization.id, tokenId: token.id };
    expect(await errorCodeOf(rpc.request(Subjects.tokens.revoke, asB))).toBe(ErrorCodes.NOT_FOUND);
    expect(await errorCodeOf(rpc.request(Subjects.tokens.rotate, asB))).toBe(ErrorCodes.NOT_FOUND);
    const seenByB = await rpc.request<TokenMetadata[]>(Subjects.tokens.list, {
      organizationId: b.organization.id,
    });
    expect(seenByB.map((t) => t.id)).not.toContain(token.id);
    await expect(verify(token.secret)).resolves.toMatchObject({ tokenId: token.id });
  });

  it('treats a token of another environment or kind as not found when the request narrows the scope', async () => {
    const { organization, apiKey } = await createOrganization();
    const token = await issue({ kind: 'enrollment', organizationId: organization.id, environment: 'prod-1' });
    const revoke = (extra: Record<string, unknown>) =>
      errorCodeOf(rpc.request(Subjects.tokens.revoke, { organizationId: organization.id, ...extra }));
    expect(await revoke({ tokenId: token.id, environment: 'staging' })).toBe(ErrorCodes.NOT_FOUND);
    expect(await revoke({ tokenId: apiKey.id, kind: 'enrollment' })).toBe(ErrorCodes.NOT_FOUND);
  });

  it('rejects an invalid request with the offending fields named', async () => {
    const { organization } = await createOrganization();
    const error = await rpc
      .request(Subjects.tokens.issue, {
        kind: 'enrollment',
        organizationId: organization.id,
        environment: 'Prod 1',
        maxUses: 0,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect((error as DomainError).errors?.map((e) => e.field).sort()).toEqual(['environment', 'maxUses']);
  });

  it('refuses an expiry in the past and a usage limit on an API key', async () => {
    const { organization } = await createOrganization();
    const error = await issue({
      kind: 'api_key',
      organizationId: organization.id,
      expiresAt: new Date(clock.now() - 1000).toISOString(),
      maxUses: 3,
    }).catch((e: unknown) => e);
    expect((error as DomainError).code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect((error as DomainError).errors?.map((e) => e.field).sort()).toEqual(['expiresAt', 'maxUses']);
  });

  it('refuses a second organisation with a taken name', async () => {
    await createOrganization(`taken-${engine}`);
    expect(await errorCodeOf(createOrganization(`taken-${engine}`))).toBe(ErrorCodes.CONFLICT);
  });
});
