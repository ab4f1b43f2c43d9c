import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@app/persistence';
import { NatsModule } from '@app/messaging';
import { structuredLogging } from '@app/observability';
import { IngestionConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class IngestionModule {
  static forRoot(config: IngestionConfig): DynamicModule {
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
      providers: [{ provide: IngestionConfig, useValue: config }],
    };
  }
}
