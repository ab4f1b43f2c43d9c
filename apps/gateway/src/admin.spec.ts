import { connect, NatsConnection } from 'nats';
import { parseToken, Subjects, VerifiedToken } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { createTestDatabase, NatsServerHandle, startNatsServer, TestDatabase } from '@app/testing';
import { startTokensHarness, TokensHarness } from '../../tokens/test/tokens.harness';
import { buildAdminProgram } from './admin';
import { TokensClient } from './tokens/tokens.client';

describe('admin CLI', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TokensHarness;
  let nc: NatsConnection;
  let rpc: RpcClient;

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase('sqlite', 'tokens');
    tokens = await startTokensHarness({ natsUrl: nats.url, env: database.env });
    nc = await connect({ servers: nats.url });
    rpc = new RpcClient(nc, 5000);
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => {
    await nc?.close();
    await tokens?.close();
    await database?.cleanup();
    await nats?.dispose();
  });

  /** Runs `npm run admin -- <args>` in-process; returns what it printed and its exit code. */
  const admin = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const program = buildAdminProgram(
      async () => ({ tokens: new TokensClient(rpc), close: async () => undefined }),
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    await program.parseAsync(args, { from: 'user' });
    const exitCode = process.exitCode ?? 0;
    process.exitCode = undefined;
    return { out, err, exitCode };
  };
  const printedKey = (lines: string[]) => lines.find((l) => l.startsWith('rca_ak_')) ?? '';
  const verify = (token: string) => rpc.request<VerifiedToken>(Subjects.tokens.verify, { token });

  it('creates an organisation and prints a working API key once', async () => {
    const { out, exitCode } = await admin('org', 'create', 'acme');
    expect(exitCode).toBe(0);
    const key = printedKey(out);
    expect(parseToken(key)?.kind).toBe('api_key');
    const listed = await admin('org', 'list');
    const acme = listed.out.find((l) => l.startsWith('acme\t'))?.split('\t')[1];
    await expect(verify(key)).resolves.toMatchObject({ organizationId: acme, kind: 'api_key' });
    expect(listed.out.join('\n')).not.toContain(key);
  });

  it('creates another key for an organisation named with --org or positionally', async () => {
    await admin('org', 'create', 'globex');
    const [byOption, byPosition] = [
      await admin('key', 'create', '--org', 'globex'),
      await admin('key', 'create', 'globex'),
    ];
    const keys = [printedKey(byOption.out), printedKey(byPosition.out)];
    const verified = await Promise.all(keys.map(verify));
    expect(new Set(verified.map((v) => v.organizationId)).size).toBe(1);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('fails with a message and exit code 1 for an unknown organisation or a taken name', async () => {
    const unknown = await admin('key', 'create', '--org', 'nobody');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.err.join('\n')).toMatch(/NOT_FOUND: organization "nobody" not found/);
    await admin('org', 'create', 'initech');
    const taken = await admin('org', 'create', 'initech');
    expect(taken.exitCode).toBe(1);
    expect(taken.err.join('\n')).toMatch(/CONFLICT/);
    const invalid = await admin('org', 'create', 'Not Valid');
    expect(invalid.err.join('\n')).toMatch(/VALIDATION_FAILED: name/);
  });

  it('generates a well-formed key for BOOTSTRAP_API_KEY without storing it', async () => {
    const { out } = await admin('key', 'generate');
    expect(parseToken(out[0])?.kind).toBe('api_key');
    await expect(verify(out[0])).rejects.toMatchObject({ code: 'TOKEN_UNKNOWN' });
  });
});
