import { Server } from 'node:http';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { sql } from 'kysely';
import { NatsConnection } from 'nats';
import { NATS_CONNECTION } from '@app/messaging';
import { startMetricsServer } from '@app/observability';
import { Database, DATABASE } from '@app/persistence';
import { AlertingConfig } from '../config';
import { AlertingDB } from '../database';
import { AlertingMetrics } from './alerting-metrics';

/** `/health` (NATS and the database) and `/metrics` on METRICS_PORT, as every non-HTTP service has. */
@Injectable()
export class HealthServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthServer.name);
  private server?: Server;

  constructor(
    private readonly config: AlertingConfig,
    private readonly metrics: AlertingMetrics,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(DATABASE) private readonly database: Database<AlertingDB>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.METRICS_PORT === 0) return;
    this.server = await startMetricsServer(this.config.METRICS_PORT, this.metrics.registry, async () => [
      ...(this.nc.isClosed() ? ['nats'] : []),
      ...((await this.databaseAnswers()) ? [] : ['database']),
    ]);
    this.logger.log({ port: this.config.METRICS_PORT }, 'metrics server listening');
  }

  async onModuleDestroy(): Promise<void> {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.database.db);
      return true;
    } catch {
      return false;
    }
  }
}
