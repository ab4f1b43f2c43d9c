import { INestApplication, INestMicroservice } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NatsConnection } from 'nats';
import { loadConfig } from '@app/config';
import { CreatedOrganization, CreateOrganizationRequest, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { createTestDatabase, NatsServerHandle, startNatsServer, TestDatabase } from '@app/testing';
import type { Engine } from '@app/persistence';
import type { PlatformIdentity } from '@app/nats-auth';
import { createGatewayApp } from '../../gateway/src/app';
import { GatewayConfig } from '../../gateway/src/config';
import { startIngestion } from '../../ingestion/src/app';
import { IngestionConfig } from '../../ingestion/src/config';
import { startTokensHarness, TokensHarness } from '../../tokens/test/tokens.harness';
import { startProvisioning } from '../src/app';
import { ProvisioningConfig } from '../src/config';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const PUBLIC_URL = 'https://rca.example.test';
export const AGENT_IMAGE = 'registry.example.test/rca/agent:1.2.3';

/** A stand-in agent build (what `npm run build:agent` writes): its files and the manifest pinning them. */
export const AGENT_BUILD = {
  dir: join(tmpdir(), `rca-agent-build-fixture-${process.pid}`),
  bundle: Buffer.from('stand-in bundle tarball'),
  binary: Buffer.from('stand-in linux-x64 executable'),
  lambdaLayer: Buffer.from('stand-in lambda layer zip'),
};
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
function writeAgentBuild(): void {
  mkdirSync(AGENT_BUILD.dir, { recursive: true });
  writeFileSync(join(AGENT_BUILD.dir, 'rca-agent-bundle.tgz'), AGENT_BUILD.bundle);
  writeFileSync(join(AGENT_BUILD.dir, 'rca-agent-linux-x64'), AGENT_BUILD.binary);
  writeFileSync(join(AGENT_BUILD.dir, 'rca-agent-lambda-layer.zip'), AGENT_BUILD.lambdaLayer);
  const artifact = (file: string, data: Buffer) => ({ file, size: data.length, sha256: sha256(data) });
  writeFileSync(
    join(AGENT_BUILD.dir, 'manifest.json'),
    JSON.stringify({
      version: '0.1.0',
      bundle: artifact('rca-agent-bundle.tgz', AGENT_BUILD.bundle),
      binaries: { 'linux-x64': artifact('rca-agent-linux-x64', AGENT_BUILD.binary) },
      lambdaLayer: artifact('rca-agent-lambda-layer.zip', AGENT_BUILD.lambdaLayer),
    }),
  );
}

/** The real services (tokens, provisioning, ingestion, gateway) against one nats-server and one database. */
export interface Platform {
  nats: NatsServerHandle;
  /** One database per service, as each service owns its data. */
  databases: TestDatabase[];
  nc: NatsConnection;
  rpc: RpcClient;
  gateway: INestApplication;
  /** `http://127.0.0.1:<port>` of the gateway. */
  baseUrl: string;
  createOrganization(name: string): Promise<CreatedOrganization>;
  /** A connection as another platform identity (e.g. `ingestion` to publish liveness events); closed by stop(). */
  connectAs(identity: PlatformIdentity): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export async function startPlatform(
  engine: Engine,
  /** `provisioningInstances`: more than one provisioning instance on the same database (default 1). */
  options: { provisioningEnv?: Record<string, string>; provisioningInstances?: number } = {},
): Promise<Platform> {
  const nats = await startNatsServer({ secured: true });
  const bus = nats.bus!;
  const databases = await Promise.all(
    ['tokens', 'provisioning', 'ingestion'].map((name) => createTestDatabase(engine, name)),
  );
  const [tokensDb, provisioningDb, ingestionDb] = databases;
  const common = { LOG_LEVEL: 'warn', NATS_URL: nats.url, NATS_CA_FILE: bus.caFile };
  const as = (identity: 'provisioning' | 'ingestion' | 'gateway') => ({
    NATS_CREDS: bus.credsFile(identity),
  });
  const cleanup = async () => {
    await nats.dispose();
    for (const database of databases) await database.cleanup();
  };
  const stoppers: (() => Promise<unknown>)[] = [];
  writeAgentBuild();
  try {
    const tokens: TokensHarness = await startTokensHarness({ natsUrl: nats.url, env: tokensDb.env, bus });
    stoppers.push(() => tokens.close());
    for (let i = 0; i < (options.provisioningInstances ?? 1); i++) {
      const provisioning: INestMicroservice = await startProvisioning(
        loadConfig(ProvisioningConfig, {
          ...common,
          ...as('provisioning'),
          ...provisioningDb.env,
          PUBLIC_URL,
          AGENT_IMAGE,
          PLATFORM_CA_FILE: bus.caFile,
          AGENT_DIST_DIR: AGENT_BUILD.dir,
          METRICS_PORT: '0',
          ...options.provisioningEnv,
        }),
      );
      stoppers.push(() => provisioning.close());
    }
    const ingestion = await startIngestion(
      loadConfig(IngestionConfig, {
        ...common,
        ...as('ingestion'),
        ...ingestionDb.env,
        METRICS_PORT: '0',
        LAST_SEEN_FLUSH_SECONDS: '0.5',
      }),
    );
    stoppers.push(() => ingestion.close());
    const gateway = await createGatewayApp(
      loadConfig(GatewayConfig, {
        ...common,
        ...as('gateway'),
        DEPLOY_DIR,
        AGENT_DIST_DIR: AGENT_BUILD.dir,
        PORT: '0',
        PLATFORM_CA_FILE: bus.caFile,
      }),
    );
    await gateway.listen(0, '127.0.0.1');
    stoppers.push(() => gateway.close());
    // The tests speak to the services as the gateway does.
    const nc = await bus.connect('gateway');
    stoppers.push(() => nc.close());
    const rpc = new RpcClient(nc, 10_000);
    const address = gateway.getHttpServer().address() as { port: number };
    return {
      nats,
      databases,
      nc,
      rpc,
      gateway,
      baseUrl: `http://127.0.0.1:${address.port}`,
      connectAs: async (identity) => {
        const connection = await bus.connect(identity);
        stoppers.push(() => connection.close());
        return connection;
      },
      createOrganization: (name) =>
        rpc.request<CreatedOrganization, CreateOrganizationRequest>(Subjects.tokens.createOrganization, {
          name,
        }),
      stop: async () => {
        for (const stop of stoppers.reverse()) await stop();
        await cleanup();
      },
    };
  } catch (error) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await cleanup();
    throw error;
  }
}
