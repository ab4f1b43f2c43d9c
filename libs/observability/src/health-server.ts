import { Server } from 'node:http';
import { Logger, OnApplicationBootstrap, OnModuleDestroy, Provider, Type } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { NATS_CONNECTION } from '@app/messaging';
import { Database, DATABASE } from '@app/persistence';
import { startMetricsServer } from './metrics-server';
import { ServiceMetrics } from './service-metrics';

/** Names the failing dependencies; empty = healthy. */
export type HealthCheck = () => Promise<string[]>;

/** How long the JetStream check waits for an answer. */
const JETSTREAM_CHECK_TIMEOUT_MS = 2000;

/** The failing dependencies of a service that needs NATS and its database (empty = healthy). */
export function natsAndDatabaseChecks(nc: NatsConnection, db: Kysely<unknown>): HealthCheck {
  return async () => {
    const failing = nc.isClosed() ? ['nats'] : [];
    try {
      await sql`select 1`.execute(db);
    } catch {
      failing.push('database');
    }
    return failing;
  };
}

/**
 * `jetstream` failing unless JetStream answers for `stream`. NATS itself may be up while its JetStream
 * is not: nats-server turns JetStream off when its disk fills, and until it is restarted nothing is
 * stored; this is what makes that visible.
 */
export function jetStreamCheck(nc: NatsConnection, stream: string): HealthCheck {
  return async () => {
    try {
      const jsm = await nc.jetstreamManager({ timeout: JETSTREAM_CHECK_TIMEOUT_MS });
      await jsm.streams.info(stream);
      return [];
    } catch {
      return ['jetstream'];
    }
  };
}

/** Every check's failures, the checks run at once. */
export function allChecks(...checks: HealthCheck[]): HealthCheck {
  return async () => (await Promise.all(checks.map((check) => check()))).flat();
}

/**
 * `/health` and `/metrics` on METRICS_PORT for a service without an HTTP API, open for the
 * application's lifetime; port 0 turns it off. Provide it with a factory in the service's module.
 */
export class HealthServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthServer.name);
  private server?: Server;

  constructor(
    private readonly port: number,
    private readonly registry: Registry,
    private readonly checks: HealthCheck,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.port === 0) return;
    this.server = await startMetricsServer(this.port, this.registry, this.checks);
    this.logger.log({ port: this.port }, 'metrics server listening');
  }

  async onModuleDestroy(): Promise<void> {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}

/**
 * The HealthServer provider of a service that owns a `ServiceMetrics` and a database: its
 * registry on `port`, healthy while NATS and the database answer.
 */
export function healthServerProvider(metrics: Type<ServiceMetrics>, port: number): Provider {
  return {
    provide: HealthServer,
    useFactory: (registry: ServiceMetrics, nc: NatsConnection, database: Database<unknown>) =>
      new HealthServer(port, registry.registry, natsAndDatabaseChecks(nc, database.db)),
    inject: [metrics, NATS_CONNECTION, DATABASE],
  };
}
