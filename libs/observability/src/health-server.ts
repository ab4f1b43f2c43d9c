import { Server } from 'node:http';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { startMetricsServer } from './metrics-server';

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
