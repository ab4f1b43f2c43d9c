import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@app/persistence';
import { NatsModule, busSettings } from '@app/messaging';
import { healthServerProvider, structuredLogging } from '@app/observability';
import { AgentDirectory } from './agents/agent-directory';
import { AlertEvaluator } from './alerts/alert-evaluator';
import { AlertLifecycle } from './alerts/alert-lifecycle';
import { AlertScheduler } from './alerts/alert-scheduler';
import { AlertsHandler } from './alerts/alerts.handler';
import { AlertsRepository } from './alerts/alerts.repository';
import { AlertsService } from './alerts/alerts.service';
import { AlertActionsService } from './alerts/alert-actions.service';
import { ChannelTester } from './channels/channel-tester';
import { ChannelsHandler } from './channels/channels.handler';
import { ChannelsRepository } from './channels/channels.repository';
import { ChannelsService } from './channels/channels.service';
import { Clock, SystemClock } from '@app/clock';
import { AlertingConfig } from './config';
import { DeliveriesRepository } from './delivery/deliveries.repository';
import { DeliveryWorker } from './delivery/delivery-worker';
import { DestinationPolicy } from './delivery/destination-policy';
import { EventConsumer } from './delivery/event-consumer';
import { WebhookSender } from './delivery/webhook-sender';
import { migrations } from './migrations';
import { AlertingMetrics } from './health/alerting-metrics';
import { RulesHandler } from './rules/rules.handler';
import { RulesRepository } from './rules/rules.repository';
import { RulesService } from './rules/rules.service';
import { Transactions } from './transactions';

export interface AlertingOverrides {
  /** Tests move time instead of sleeping through "offline for N". */
  clock?: Clock;
}

@Module({})
export class AlertingModule {
  static forRoot(config: AlertingConfig, overrides: AlertingOverrides = {}): DynamicModule {
    return {
      module: AlertingModule,
      imports: [
        structuredLogging('alerting', config.LOG_LEVEL),
        DatabaseModule.forRoot(
          { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, name: 'alerting' },
          migrations,
        ),
        NatsModule.forRoot({
          ...busSettings(config, 'alerting'),
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
      ],
      controllers: [RulesHandler, ChannelsHandler, AlertsHandler],
      providers: [
        { provide: AlertingConfig, useValue: config },
        { provide: Clock, useValue: overrides.clock ?? new SystemClock() },
        {
          provide: AlertingMetrics,
          useValue: new AlertingMetrics({ defaultMetrics: config.METRICS_PORT > 0 }),
        },
        healthServerProvider(AlertingMetrics, config.METRICS_PORT),
        Transactions,
        RulesRepository,
        ChannelsRepository,
        AlertsRepository,
        DeliveriesRepository,
        RulesService,
        ChannelsService,
        ChannelTester,
        AlertsService,
        AlertActionsService,
        AgentDirectory,
        AlertLifecycle,
        AlertEvaluator,
        AlertScheduler,
        { provide: DestinationPolicy, useValue: new DestinationPolicy(config.ALERT_WEBHOOK_ALLOWED_CIDRS) },
        WebhookSender,
        DeliveryWorker,
        EventConsumer,
      ],
    };
  }
}
