import { DynamicModule, Module } from '@nestjs/common';
import { eventOutboxProvider, EventOutboxRelay } from '@app/outbox';
import { DatabaseModule } from '@app/persistence';
import { NatsModule } from '@app/messaging';
import { structuredLogging } from '@app/observability';
import { BOOTSTRAP_OUTPUT, BootstrapService, stdoutBootstrapOutput } from './bootstrap/bootstrap.service';
import { Clock, SystemClock } from '@app/clock';
import { TokensConfig } from './config';
import { migrations } from './migrations';
import { OrganizationsHandler } from './organizations/organizations.handler';
import { OrganizationsRepository } from './organizations/organizations.repository';
import { OrganizationsService } from './organizations/organizations.service';
import { TokenEvents } from './tokens/token-events';
import { TokenSecrets } from './tokens/token-secrets';
import { TokensHandler } from './tokens/tokens.handler';
import { TokensRepository } from './tokens/tokens.repository';
import { TokensService } from './tokens/tokens.service';
import { Transactions } from './transactions';

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
      controllers: [TokensHandler, OrganizationsHandler],
      providers: [
        { provide: TokensConfig, useValue: config },
        { provide: Clock, useClass: SystemClock },
        { provide: BOOTSTRAP_OUTPUT, useValue: stdoutBootstrapOutput },
        TokenSecrets,
        Transactions,
        eventOutboxProvider(),
        EventOutboxRelay,
        TokensRepository,
        OrganizationsRepository,
        TokenEvents,
        TokensService,
        OrganizationsService,
        BootstrapService,
      ],
    };
  }
}
