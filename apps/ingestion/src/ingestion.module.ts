import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { AgentDirectory } from '@app/auth';
import { DatabaseModule } from '@app/persistence';
import { NATS_CONNECTION, NatsModule, RpcClient, busSettings } from '@app/messaging';
import { eventOutboxProvider } from '@app/outbox';
import { healthServerProvider, structuredLogging } from '@app/observability';
import { Clock, SystemClock } from '@app/clock';
import { IngestionConfig } from './config';
import { AgentIdentityChecker } from './identity/agent-identity-checker';
import { HeartbeatSubscriber } from './heartbeats/heartbeat-subscriber';
import { IngestionLifecycle } from './ingestion.lifecycle';
import { AgentsRepository } from './liveness/agents.repository';
import { LivenessTracker } from './liveness/liveness-tracker';
import { DeadLetterParker } from './metrics/dead-letter';
import { MetricsConsumer } from './metrics/metrics-consumer';
import { MetricsIngestor } from './metrics/metrics-ingestor';
import { MetricsRepository } from './metrics/metrics.repository';
import { MetricsWriter } from './metrics/metrics-writer';
import { migrations } from './migrations';
import { IngestionMetrics } from './observability/ingestion-metrics';
import { MetricsQueryController } from './query/metrics-query.controller';
import { MetricsQueryService } from './query/metrics-query.service';
import { RetentionJob } from './retention/retention-job';

export interface IngestionOverrides {
  clock?: Clock;
}

@Module({})
export class IngestionModule {
  static forRoot(config: IngestionConfig, overrides: IngestionOverrides = {}): DynamicModule {
    return {
      module: IngestionModule,
      imports: [
        structuredLogging('ingestion', config.LOG_LEVEL),
        DatabaseModule.forRoot(
          { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, name: 'ingestion' },
          migrations,
        ),
        NatsModule.forRoot({
          ...busSettings(config, 'ingestion'),
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
      ],
      controllers: [MetricsQueryController],
      providers: [
        { provide: IngestionConfig, useValue: config },
        { provide: Clock, useValue: overrides.clock ?? new SystemClock() },
        {
          provide: IngestionMetrics,
          useFactory: () => new IngestionMetrics({ defaultMetrics: config.METRICS_PORT > 0 }),
        },
        healthServerProvider(IngestionMetrics, config.METRICS_PORT),
        {
          provide: AgentDirectory,
          useFactory: (rpc: RpcClient, nc: NatsConnection) =>
            new AgentDirectory(rpc, nc, { ttlMs: config.AGENT_CACHE_TTL_SECONDS * 1000 }),
          inject: [RpcClient, NATS_CONNECTION],
        },
        {
          provide: AgentIdentityChecker,
          useFactory: (directory: AgentDirectory) => new AgentIdentityChecker(directory),
          inject: [AgentDirectory],
        },
        eventOutboxProvider(IngestionMetrics),
        AgentsRepository,
        LivenessTracker,
        HeartbeatSubscriber,
        MetricsRepository,
        MetricsWriter,
        DeadLetterParker,
        MetricsIngestor,
        MetricsConsumer,
        RetentionJob,
        MetricsQueryService,
        IngestionLifecycle,
      ],
    };
  }
}
