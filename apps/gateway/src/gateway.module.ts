import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { NatsModule } from '@app/messaging';
import { structuredLogging } from '@app/observability';
import { GatewayConfig } from './config';
import { HealthController } from './health/health.controller';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        structuredLogging('gateway', config.LOG_LEVEL),
        TerminusModule,
        NatsModule.forRoot({
          url: config.NATS_URL,
          token: config.NATS_TOKEN,
          credsFile: config.NATS_CREDS,
          name: 'gateway',
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
      ],
      controllers: [HealthController],
      providers: [{ provide: GatewayConfig, useValue: config }],
    };
  }
}
