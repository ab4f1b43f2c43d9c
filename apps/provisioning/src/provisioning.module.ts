import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@app/persistence';
import { NatsModule } from '@app/messaging';
import { structuredLogging } from '@app/observability';
import { ProvisioningConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class ProvisioningModule {
  static forRoot(config: ProvisioningConfig): DynamicModule {
    return {
      module: ProvisioningModule,
      imports: [
        structuredLogging('provisioning', config.LOG_LEVEL),
        DatabaseModule.forRoot(
          { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, name: 'provisioning' },
          migrations,
        ),
        NatsModule.forRoot({
          url: config.NATS_URL,
          token: config.NATS_TOKEN,
          credsFile: config.NATS_CREDS,
          name: 'provisioning',
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
      ],
      providers: [{ provide: ProvisioningConfig, useValue: config }],
    };
  }
}
