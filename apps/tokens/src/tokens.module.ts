import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@app/persistence';
import { NatsModule } from '@app/messaging';
import { structuredLogging } from '@app/observability';
import { TokensConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class TokensModule {
  static forRoot(config: TokensConfig): DynamicModule {
    return {
      module: TokensModule,
      imports: [
        structuredLogging('tokens', config.LOG_LEVEL),
        DatabaseModule.forRoot(
          { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, name: 'tokens' },
          migrations,
        ),
        NatsModule.forRoot({
          url: config.NATS_URL,
          token: config.NATS_TOKEN,
          credsFile: config.NATS_CREDS,
          name: 'tokens',
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
      ],
      providers: [{ provide: TokensConfig, useValue: config }],
    };
  }
}
