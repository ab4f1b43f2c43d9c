import { DynamicModule, Module } from '@nestjs/common';
import { Clock, SystemClock } from '@app/clock';
import { GatewayConfig } from '../config';
import { AuditLogService } from '../audit/audit-log.service';
import { AuditController } from '../audit/audit.controller';
import { ChartRepository } from '../charts/chart-repository';
import { ChartsController } from '../charts/charts.controller';
import { AgentDownloads } from '../install/agent-downloads';
import { InstallController } from '../install/install.controller';
import { InstallScripts } from '../install/install-scripts';
import { IntakeController } from '../intake/intake.controller';
import { IntakeAuthGuard } from '../intake/intake-auth.guard';
import { IntakeService } from '../intake/intake.service';
import { PlatformCa } from '../intake/platform-ca.provider';
import { AgentMetricsController } from '../metrics/agent-metrics.controller';
import { FleetTopController } from '../metrics/fleet-top.controller';
import { FleetTopService } from '../metrics/fleet-top.service';
import { AgentMetricsService } from '../metrics/agent-metrics.service';
import { ProvisioningController } from '../provisioning/provisioning.controller';
import { TokensClient } from '../tokens/tokens.client';
import { FleetSettingsController } from '../settings/fleet-settings.controller';
import { AgentLifecycleController } from './agent-lifecycle.controller';
import {
  AgentConfigController,
  ConfigStatusController,
  EnvironmentConfigController,
} from '../configs/configs.controller';
import { ConfigsClient } from '../configs/configs.client';
import { AgentsController } from './agents.controller';
import { AgentsReader } from './agents-reader';
import { FleetClient } from './fleet.client';
import { FleetVersionsController } from './fleet-versions.controller';

/**
 * The customer-facing fleet API (types, provision, agents, audit, metrics, environments), the
 * agent HTTP intake, and the artifacts generated commands download (install scripts, Helm repo).
 */
@Module({})
export class FleetApiModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: FleetApiModule,
      controllers: [
        ProvisioningController,
        // Before AgentsController: `POST /agents/bulk` and `/agents/:id/...` are its own routes.
        AgentLifecycleController,
        AgentsController,
        AgentMetricsController,
        FleetTopController,
        FleetSettingsController,
        AuditController,
        IntakeController,
        InstallController,
        ChartsController,
        EnvironmentConfigController,
        AgentConfigController,
        ConfigStatusController,
        FleetVersionsController,
      ],
      providers: [
        { provide: GatewayConfig, useValue: config },
        { provide: Clock, useClass: SystemClock },
        FleetClient,
        ConfigsClient,
        TokensClient,
        AuditLogService,
        AgentsReader,
        AgentMetricsService,
        FleetTopService,
        IntakeService,
        IntakeAuthGuard,
        PlatformCa,
        ChartRepository,
        InstallScripts,
        AgentDownloads,
      ],
    };
  }
}
