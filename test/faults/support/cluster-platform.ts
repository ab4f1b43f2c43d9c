import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { formatToken } from '@app/contracts';
import { NatsClusterHandle, TestDatabase, waitFor } from '@app/testing';
import { cleanEnv } from '../../support/launcher';
import { PlatformProcess } from './service-process';

/** Start order matters only for tokens (it bootstraps the organisation; a second instance would lose the race). */
export const SERVICES = ['tokens', 'provisioning', 'ingestion', 'alerting', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Liveness scaled down: heartbeats every second, offline after ten missed (production: 3 × 10 s). With five,
 * one run in three on 2 busy cores saw one false offline/online for an agent outside a partition while the
 * three nodes re-elected leaders; see RELIABILITY.md, "Fault suite".
 */
export const HEARTBEAT_SECONDS = 1;
export const MISSED_HEARTBEATS = 10;

/** What every instance gets besides its bus identity: a cluster's settings (docs/running-a-cluster.md). */
export const CLUSTER_SETTINGS = {
  METRICS_STREAM_REPLICAS: '3',
  EVENTS_STREAM_REPLICAS: '3',
  DEAD_LETTER_STREAM_REPLICAS: '3',
  // JetStream reserves max_bytes on each of the three nodes; the test's stores are small.
  METRICS_STREAM_MAX_BYTES: String(256 * 1024 ** 2),
  HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  LIVENESS_MISSED_HEARTBEATS: String(MISSED_HEARTBEATS),
  LAST_SEEN_FLUSH_SECONDS: '0.25',
  // The audit stores what a consumer leader change made JetStream skip (RELIABILITY.md): soon enough
  // for the 60 s settle, late enough (twice the ack wait) not to race redeliveries.
  METRICS_AUDIT_INTERVAL_SECONDS: '5',
  METRICS_AUDIT_DELAY_SECONDS: '20',
};

/** One instance of one service, pinned to one node by its NATS_URL (it learns the others from the cluster). */
export interface ServiceInstance {
  service: ServiceName;
  /** `a` or `b`. */
  instance: string;
  /** Its connection name on the bus, as `/connz` shows it. */
  busName: string;
  home: number;
  process: PlatformProcess;
}

export interface ClusterPlatform {
  apiKey: string;
  instances: ServiceInstance[];
  /** The gateways' HTTP base URLs, by instance. */
  gatewayUrl(instance: string): string;
  gatewayHttpsUrl(instance: string): string;
  /** Starts (or restarts) instances and waits until each one serves. */
  start(instances: ServiceInstance[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Two instances of every service on one PostgreSQL database: instance `a` on node 0, `b` on node 1,
 * each its own child process from dist/ as `npm start` runs them, each its service's NATS user.
 */
export async function clusterPlatform(
  cluster: NatsClusterHandle,
  database: TestDatabase,
  homes: Record<string, number> = { a: 0, b: 1 },
): Promise<ClusterPlatform> {
  const authority = cluster.bus.authority;
  const apiKey = formatToken('api_key', randomBytes);
  const ports: Record<string, { http: number; https: number }> = {};
  for (const instance of Object.keys(homes))
    ports[instance] = { http: await freePort(), https: await freePort() };
  const firstHttps = ports[Object.keys(homes)[0]].https;

  const envOf = (service: ServiceName, instance: string, home: number) => () =>
    cleanEnv({
      // Its own node first; nats.js adds the other nodes the cluster tells it about.
      NATS_URL: cluster.nodes[home].url,
      NATS_CREDS: cluster.bus.credsFile(service),
      NATS_CA_FILE: cluster.bus.caFile,
      PLATFORM_CA_FILE: cluster.bus.caFile,
      DATA_DIR: database.env.DATA_DIR,
      DATABASE_URL: database.env.DATABASE_URL,
      // Ingestion at debug: its metrics audit logs each pass, which the gap report prints.
      LOG_LEVEL: service === 'ingestion' ? 'debug' : 'info',
      BOOTSTRAP_API_KEY: apiKey,
      METRICS_PORT: '0',
      PUBLIC_URL: `https://localhost:${firstHttps}`,
      AGENT_NATS_URL: cluster.urls,
      ...CLUSTER_SETTINGS,
      ...(service === 'tokens' ? { NATS_AUTH_DIR: authority.dir } : {}),
      ...(service === 'gateway'
        ? {
            HOST: '127.0.0.1',
            PORT: String(ports[instance].http),
            HTTPS_PORT: String(ports[instance].https),
            TLS_CERT_FILE: authority.paths.serverCertificate,
            TLS_KEY_FILE: authority.paths.serverKey,
          }
        : {}),
    });

  const instances: ServiceInstance[] = [];
  for (const service of SERVICES)
    for (const [instance, home] of Object.entries(homes))
      instances.push({
        service,
        instance,
        busName: service,
        home,
        process: new PlatformProcess(`${service}-${instance}`, service, envOf(service, instance, home)),
      });

  const gatewayUrl = (instance: string) => `http://127.0.0.1:${ports[instance].http}`;
  const ready = async (target: ServiceInstance) => {
    if (target.service === 'gateway') {
      await target.process.waitFor(
        '"Nest application successfully started"',
        (o) => o.includes('successfully started'),
        90_000,
      );
      await waitForHealth(gatewayUrl(target.instance), target.process);
    } else {
      await target.process.waitFor(
        '"Nest microservice successfully started"',
        (o) => o.includes('successfully started'),
        90_000,
      );
    }
  };

  return {
    apiKey,
    instances,
    gatewayUrl,
    gatewayHttpsUrl: (instance) => `https://localhost:${ports[instance].https}`,
    start: async (targets) => {
      const tokens = targets.filter((t) => t.service === 'tokens');
      for (const t of tokens) t.process.start();
      await Promise.all(tokens.map(ready));
      const rest = targets.filter((t) => t.service !== 'tokens');
      for (const t of rest) t.process.start();
      await Promise.all(rest.map(ready));
    },
    stop: async () => {
      await Promise.all(instances.map((i) => i.process.stop()));
    },
  };
}

async function waitForHealth(baseUrl: string, gateway: PlatformProcess): Promise<void> {
  await waitFor(
    `${gateway.name} /health`,
    async () => {
      if (!gateway.running) throw new Error(`${gateway.name} exited:\n${gateway.output().slice(-4000)}`);
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return response.ok;
    },
    30_000,
    200,
  );
}

/** A port the system picks, released for the service to take (as npm start does for PORT=0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
