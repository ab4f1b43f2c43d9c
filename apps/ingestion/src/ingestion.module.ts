import { DynamicModule, Module, Provider } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { AgentDirectory } from '@app/auth';
import { Streams } from '@app/contracts';
import { Database, DATABASE, DatabaseModule } from '@app/persistence';
import { NATS_CONNECTION, NatsModule, RpcClient, busSettings } from '@app/messaging';
import { eventOutboxProvider } from '@app/outbox';
import {
  allChecks,
  HealthServer,
  jetStreamCheck,
  natsAndDatabaseChecks,
  structuredLogging,
} from '@app/observability';
import { Clock, SystemClock } from '@app/clock';
import { IngestionConfig } from './config';
import { AgentIdentityChecker } from './identity/agent-identity-checker';
import { HeartbeatSubscriber } from './heartbeats/heartbeat-subscriber';
import { IngestionLifecycle } from './ingestion.lifecycle';
import { AgentsRepository } from './liveness/agents.repository';
import { LivenessTracker } from './liveness/liveness-tracker';
import { DeadLetterParker } from './metrics/dead-letter';
import { ExhaustedDeliveryParker } from './metrics/exhausted-deliveries';
import { MetricsAudit } from './metrics/metrics-audit';
import { MetricsAuditRepository } from './metrics/metrics-audit.repository';
import { MetricsConsumer } from './metrics/metrics-consumer';
import { MetricsIngestor } from './metrics/metrics-ingestor';
import { MetricsRepository } from './metrics/metrics.repository';
import { MetricsWriter } from './metrics/metrics-writer';
import { migrations } from './migrations';
import { IngestionMetrics } from './observability/ingestion-metrics';
import { RejectedInput } from './observability/rejected-input';
import { MetricsQueryController } from './query/metrics-query.controller';
import { MetricsCatalogService } from './query/metrics-catalog.service';
import { MetricsQueryService } from './query/metrics-query.service';
import { RetentionJob } from './retention/retention-job';
import { CompactionJob } from './compaction/compaction-job';
import { SeriesReader } from './query/series-reader';
import { FleetTopService } from './query/fleet-top.service';
import { StoredMetricsRepository } from './metrics/stored-metrics.repository';
import { CompactionRepository } from './compaction/compaction.repository';
import { AgentFactsDirectory } from './remote-write/agent-facts.directory';
import { RemoteWriteClient } from './remote-write/remote-write.client';
import { RemoteWriteConsumer } from './remote-write/remote-write.consumer';
import { RemoteWriteExporter } from './remote-write/remote-write.exporter';

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
        {
          // Healthy while NATS, the database, JetStream (AGENT_METRICS) and the heartbeat subscription all work.
          provide: HealthServer,
          useFactory: (
            metrics: IngestionMetrics,
            nc: NatsConnection,
            database: Database<unknown>,
            liveness: LivenessTracker,
          ) =>
            new HealthServer(
              config.METRICS_PORT,
              metrics.registry,
              allChecks(
                natsAndDatabaseChecks(nc, database.db),
                jetStreamCheck(nc, Streams.metrics),
                async () => (liveness.hearing ? [] : ['heartbeats']),
              ),
            ),
          inject: [IngestionMetrics, NATS_CONNECTION, DATABASE, LivenessTracker],
        },
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
        eventOutboxProvider('ingestion', IngestionMetrics),
        {
          provide: RejectedInput,
          useFactory: (metrics: IngestionMetrics, clock: Clock) => new RejectedInput(metrics, clock),
          inject: [IngestionMetrics, Clock],
        },
        AgentsRepository,
        LivenessTracker,
        HeartbeatSubscriber,
        MetricsRepository,
        MetricsWriter,
        DeadLetterParker,
        ExhaustedDeliveryParker,
        MetricsIngestor,
        MetricsConsumer,
        MetricsAuditRepository,
        MetricsAudit,
        RetentionJob,
        CompactionJob,
        SeriesReader,
        FleetTopService,
        StoredMetricsRepository,
        CompactionRepository,
        MetricsQueryService,
        MetricsCatalogService,
        IngestionLifecycle,
        ...(config.sinks().includes('remote_write') ? remoteWriteProviders(config) : []),
      ],
    };
  }
}

/** The remote-write sink (METRICS_SINKS includes remote_write): its consumer and what it needs. */
function remoteWriteProviders(config: IngestionConfig): Provider[] {
  return [
    { provide: RemoteWriteClient, useFactory: () => new RemoteWriteClient(config) },
    {
      provide: AgentFactsDirectory,
      useFactory: (rpc: RpcClient, nc: NatsConnection, clock: Clock) =>
        new AgentFactsDirectory(rpc, nc, clock, config.AGENT_CACHE_TTL_SECONDS * 1000),
      inject: [RpcClient, NATS_CONNECTION, Clock],
    },
    {
      provide: RemoteWriteExporter,
      useFactory: (
        identities: AgentIdentityChecker,
        facts: AgentFactsDirectory,
        client: RemoteWriteClient,
        nc: NatsConnection,
        metrics: IngestionMetrics,
        clock: Clock,
      ) => new RemoteWriteExporter(identities, facts, client, nc.jetstream(), metrics, clock),
      inject: [
        AgentIdentityChecker,
        AgentFactsDirectory,
        RemoteWriteClient,
        NATS_CONNECTION,
        IngestionMetrics,
        Clock,
      ],
    },
    {
      provide: RemoteWriteConsumer,
      useFactory: (nc: NatsConnection, exporter: RemoteWriteExporter, clock: Clock) =>
        new RemoteWriteConsumer(nc, exporter, clock),
      inject: [NATS_CONNECTION, RemoteWriteExporter, Clock],
    },
  ];
}
