import { DynamicModule, Module } from '@nestjs/common';
import { eventOutboxProvider, EventOutboxRelay } from '@app/outbox';
import { DatabaseModule } from '@app/persistence';
import { NatsModule, busSettings } from '@app/messaging';
import { healthServerProvider, structuredLogging } from '@app/observability';
import { AuditHandler } from './audit/audit.handler';
import { AuditRepository } from './audit/audit.repository';
import { AuditService } from './audit/audit.service';
import { Clock, SystemClock } from '@app/clock';
import { ProvisioningConfig } from './config';
import { EnrollmentHandler } from './enrollment/enrollment.handler';
import { EnrollmentService } from './enrollment/enrollment.service';
import { EnvironmentsHandler } from './environments/environments.handler';
import { EnvironmentsRepository } from './environments/environments.repository';
import { EnvironmentsService } from './environments/environments.service';
import { ProvisioningMetrics } from './health/provisioning-metrics';
import { migrations } from './migrations';
import { ProvisioningHandler } from './provisioning/provisioning.handler';
import { ProvisioningService } from './provisioning/provisioning.service';
import { AgentStatusConsumer } from './registry/agent-status.consumer';
import { TokenAuditConsumer } from './audit/token-audit.consumer';
import { AgentsRepository } from './registry/agents.repository';
import { FleetHandler } from './registry/fleet.handler';
import { VersionsHandler } from './versions/versions.handler';
import { VersionsRepository } from './versions/versions.repository';
import { VersionsService } from './versions/versions.service';
import { RegistryService } from './registry/registry.service';
import { TokenServiceClient } from './tokens/token-service.client';
import { AgentLifecycleRepository } from './lifecycle/agent-lifecycle.repository';
import { AgentLifecycleService } from './lifecycle/agent-lifecycle.service';
import { BulkActionsService } from './lifecycle/bulk-actions.service';
import { InactiveAgentCleanup } from './lifecycle/inactive-agent.cleanup';
import { LifecycleHandler } from './lifecycle/lifecycle.handler';
import { FleetSettingsHandler } from './settings/fleet-settings.handler';
import { FleetSettingsRepository } from './settings/fleet-settings.repository';
import { FleetSettingsService } from './settings/fleet-settings.service';
import { AgentConfigHandler } from './configs/agent-config.handler';
import { ConfigPusher } from './configs/config.pusher';
import { ConfigsHandler } from './configs/configs.handler';
import { ConfigsRepository } from './configs/configs.repository';
import { ConfigsService } from './configs/configs.service';

@Module({})
export class ProvisioningModule {
  /** `clock` is for tests that move time (rate limits, expiry); production uses the system clock. */
  static forRoot(config: ProvisioningConfig, options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: ProvisioningModule,
      imports: [
        structuredLogging('provisioning', config.LOG_LEVEL),
        DatabaseModule.forRoot(
          { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, name: 'provisioning' },
          migrations,
        ),
        NatsModule.forRoot({
          ...busSettings(config, 'provisioning'),
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
      ],
      controllers: [
        ProvisioningHandler,
        EnrollmentHandler,
        FleetHandler,
        AuditHandler,
        EnvironmentsHandler,
        LifecycleHandler,
        FleetSettingsHandler,
        ConfigsHandler,
        AgentConfigHandler,
        VersionsHandler,
      ],
      providers: [
        { provide: ProvisioningConfig, useValue: config },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        {
          provide: ProvisioningMetrics,
          useValue: new ProvisioningMetrics({ defaultMetrics: config.METRICS_PORT > 0 }),
        },
        healthServerProvider(ProvisioningMetrics, config.METRICS_PORT),
        TokenServiceClient,
        eventOutboxProvider('provisioning', ProvisioningMetrics),
        EventOutboxRelay,
        AuditRepository,
        AuditService,
        EnvironmentsRepository,
        EnvironmentsService,
        AgentsRepository,
        RegistryService,
        AgentStatusConsumer,
        TokenAuditConsumer,
        EnrollmentService,
        ProvisioningService,
        AgentLifecycleRepository,
        AgentLifecycleService,
        BulkActionsService,
        FleetSettingsRepository,
        FleetSettingsService,
        InactiveAgentCleanup,
        ConfigsRepository,
        ConfigPusher,
        ConfigsService,
        VersionsRepository,
        VersionsService,
      ],
    };
  }
}
