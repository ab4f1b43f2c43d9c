import { randomBytes } from 'node:crypto';
import { NatsConnection } from 'nats';
import type { PlatformIdentity } from '@app/nats-auth';
import { formatToken, Subjects, VerifiedToken } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { Engine } from '@app/persistence';
import { NatsServerHandle, startNatsServer, TestDatabase } from '@app/testing';
import { freePort } from './http-load';
import {
  answers,
  freshDatabase,
  httpOk,
  ServiceName,
  ServiceProcess,
  startService,
  stopAll,
  waitUntilReady,
} from './services';

export interface PlatformOptions {
  engine: Engine;
  /** Which services to start (in dependency order: tokens, provisioning, ingestion, gateway). */
  services: ServiceName[];
  /** Extra variables per service. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
}

export interface Platform {
  nats: NatsServerHandle;
  database: TestDatabase;
  /** A bench-side NATS connection and RPC client (not counted in any service's CPU). */
  nc: NatsConnection;
  rpc: RpcClient;
  /** The bootstrap organisation's API key and id. */
  apiKey: string;
  organizationId: string;
  gatewayUrl?: string;
  processes: Partial<Record<ServiceName, ServiceProcess>>;
  stop(): Promise<void>;
}

const ORDER: ServiceName[] = ['tokens', 'provisioning', 'ingestion', 'gateway'];

/**
 * The platform as `npm start` runs it, isolated: its own nats-server, a fresh database,
 * each service a `node dist/apps/<svc>/src/main.js` child process with LOG_LEVEL=warn.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  // Operator mode, as npm start runs it: every service its own user, TLS with the platform CA.
  const nats = await startNatsServer({ secured: true });
  const bus = nats.bus!;
  const database = await freshDatabase(options.engine);
  const started: ServiceProcess[] = [];
  const processes: Partial<Record<ServiceName, ServiceProcess>> = {};
  // The bench itself may do anything (it stands in for agents, operators and other services); its
  // inbox is the admin's, whom ingestion answers (ingestion replies to known inboxes only).
  const nc = await bus.connectWith('bench', ['>'], ['>'], { inboxOf: 'admin' });
  const rpc = new RpcClient(nc, 30_000);
  const apiKey = formatToken('api_key', randomBytes);
  const stop = async () => {
    await stopAll(started);
    await nc.close().catch(() => undefined);
    await nats.dispose();
    await database.cleanup();
  };
  try {
    let gatewayUrl: string | undefined;
    for (const name of ORDER.filter((s) => options.services.includes(s))) {
      const env: Record<string, string | undefined> = {
        NATS_URL: nats.url,
        NATS_CREDS: bus.credsFile(name as PlatformIdentity),
        NATS_CA_FILE: bus.caFile,
        ...(name === 'tokens' ? { NATS_AUTH_DIR: bus.authority.dir } : {}),
        ...(name === 'provisioning' || name === 'gateway' ? { PLATFORM_CA_FILE: bus.caFile } : {}),
        ...database.env,
        // Each service gets its own metrics port so two services never fight over the default.
        METRICS_PORT: String(await freePort()),
        ...(name === 'tokens' ? { BOOTSTRAP_API_KEY: apiKey } : {}),
        ...(options.env?.[name] ?? {}),
      };
      if (name === 'gateway') {
        const port = await freePort();
        env.PORT = String(port);
        env.HOST = '127.0.0.1';
        gatewayUrl = `http://127.0.0.1:${port}`;
      }
      const proc = startService(name, env);
      started.push(proc);
      processes[name] = proc;
      await waitUntilReady(proc, 'ready', readiness(name, nc, gatewayUrl));
    }
    const verified = await rpc.request<VerifiedToken>(Subjects.tokens.verify, {
      token: apiKey,
      expectedKind: 'api_key',
    });
    return {
      nats,
      database,
      nc,
      rpc,
      apiKey,
      organizationId: verified.organizationId,
      gatewayUrl,
      processes,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function readiness(name: ServiceName, nc: NatsConnection, gatewayUrl?: string): () => Promise<boolean> {
  switch (name) {
    case 'tokens':
      return () => answers(nc, Subjects.tokens.verify);
    case 'provisioning':
      return () => answers(nc, Subjects.provisioning.types);
    case 'ingestion':
      return () => answers(nc, Subjects.ingestionStats);
    case 'gateway':
      return () => httpOk(`${gatewayUrl}/health`);
    default:
      throw new Error(`no readiness check for ${name}`);
  }
}
