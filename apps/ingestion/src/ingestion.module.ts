import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { CachedTokenVerifier } from '@app/auth';
import { Streams } from '@app/contracts';
import { Database, DATABASE, DatabaseModule } from '@app/persistence';
import { NATS_CONNECTION, NatsModule, RpcClient } from '@app/messaging';
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
import { AgentCredentialChecker } from './credentials/agent-credential-checker';
import { HeartbeatSubscriber } from './heartbeats/heartbeat-subscriber';
import { RevocationNotifier } from './revocation/revocation-notifier';
import { IngestionLifecycle } from './ingestion.lifecycle';
import { AgentsRepository } from './liveness/agents.repository';
import { LivenessTracker } from './liveness/liveness-tracker';
import { DeadLetterParker } from './metrics/dead-letter';
import { ExhaustedDeliveryParker } from './metrics/exhausted-deliveries';
import { MetricsConsumer } from './metrics/metrics-consumer';
import { MetricsIngestor } from './metrics/metrics-ingestor';
import { MetricsRepository } from './metrics/metrics.repository';
import { MetricsWriter } from './metrics/metrics-writer';
import { migrations } from './migrations';
import { IngestionMetrics } from './observability/ingestion-metrics';
import { RejectedInput } from './observability/rejected-input';
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
          url: config.NATS_URL,
          token: config.NATS_TOKEN,
          credsFile: config.NATS_CREDS,
          name: 'ingestion',
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
          provide: CachedTokenVerifier,
          useFactory: (rpc: RpcClient, nc: NatsConnection) =>
            new CachedTokenVerifier(rpc, nc, {
              ttlMs: config.CREDENTIAL_CACHE_TTL_SECONDS * 1000,
              lookups: config.CREDENTIAL_LOOKUPS,
            }),
          inject: [RpcClient, NATS_CONNECTION],
        },
        {
          provide: AgentCredentialChecker,
          useFactory: (verifier: CachedTokenVerifier) => new AgentCredentialChecker(verifier),
          inject: [CachedTokenVerifier],
        },
        eventOutboxProvider(IngestionMetrics),
        {
          provide: RejectedInput,
          useFactory: (metrics: IngestionMetrics, clock: Clock) => new RejectedInput(metrics, clock),
          inject: [IngestionMetrics, Clock],
        },
        AgentsRepository,
        LivenessTracker,
        HeartbeatSubscriber,
        RevocationNotifier,
        MetricsRepository,
        MetricsWriter,
        DeadLetterParker,
        ExhaustedDeliveryParker,
        MetricsIngestor,
        MetricsConsumer,
        RetentionJob,
        MetricsQueryService,
        IngestionLifecycle,
      ],
    };
  }
}
