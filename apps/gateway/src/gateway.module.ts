import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { NatsModule, busSettings } from '@app/messaging';
import { structuredLogging } from '@app/observability';
import { GatewayConfig } from './config';
import { HealthController } from './health/health.controller';
import { AuthModule } from './auth/auth.module';
import { RateLimitModule } from './http/rate-limit/rate-limit.module';
import { DomainErrorFilter } from './http/domain-error.filter';
import { TokensRoutesModule } from './tokens/tokens-routes.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { LiveModule } from './live/live.module';
import { FleetApiModule } from './agents/fleet-api.module';
import { AlertsApiModule } from './alerts/alerts-api.module';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        structuredLogging('gateway', config.LOG_LEVEL),
        TerminusModule,
        NatsModule.forRoot({
          ...busSettings(config, 'gateway'),
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
        RateLimitModule.forRoot(config),
        AuthModule,
        TokensRoutesModule,
        LiveModule,
        DashboardModule.forRoot(),
        FleetApiModule.forRoot(config),
        AlertsApiModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: GatewayConfig, useValue: config },
        { provide: APP_FILTER, useClass: DomainErrorFilter },
      ],
    };
  }
}
