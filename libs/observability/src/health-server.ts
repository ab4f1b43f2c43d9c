import { Server } from 'node:http';
import { Logger, OnApplicationBootstrap, OnModuleDestroy, Provider, Type } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { NATS_CONNECTION } from '@app/messaging';
import { Database, DATABASE } from '@app/persistence';
import { startMetricsServer } from './metrics-server';
import { ServiceMetrics } from './service-metrics';

/** The failing dependencies of a service that needs NATS and its database (empty = healthy). */
export function natsAndDatabaseChecks(nc: NatsConnection, db: Kysely<unknown>): () => Promise<string[]> {
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
 * `/health` and `/metrics` on METRICS_PORT for a service without an HTTP API, open for the
 * application's lifetime; port 0 turns it off. Provide it with a factory in the service's module.
 */
export class HealthServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthServer.name);
  private server?: Server;

  constructor(
    private readonly port: number,
    private readonly registry: Registry,
    private readonly checks: () => Promise<string[]>,
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
