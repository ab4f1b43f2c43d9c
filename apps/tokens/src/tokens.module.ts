import { DynamicModule, Module } from '@nestjs/common';
import { eventOutboxProvider, EventOutboxRelay } from '@app/outbox';
import { DatabaseModule } from '@app/persistence';
import { NatsModule, busSettings } from '@app/messaging';
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
import { AgentIdentitiesHandler } from './agent-identities/agent-identities.handler';
import { AgentIdentitiesRepository } from './agent-identities/agent-identities.repository';
import { AgentIdentitiesService } from './agent-identities/agent-identities.service';
import { AgentJwtSigner } from './agent-identities/agent-jwt.signer';
import { AgentsAccountPublisher } from './agent-identities/agents-account.publisher';
import { BusSigningKeys } from './agent-identities/bus-signing-keys';

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
          ...busSettings(config, 'tokens'),
          requestTimeoutMs: config.RPC_TIMEOUT_MS,
        }),
      ],
      controllers: [TokensHandler, OrganizationsHandler, AgentIdentitiesHandler],
      providers: [
        { provide: TokensConfig, useValue: config },
        { provide: Clock, useClass: SystemClock },
        { provide: BOOTSTRAP_OUTPUT, useValue: stdoutBootstrapOutput },
        TokenSecrets,
        Transactions,
        eventOutboxProvider('tokens'),
        EventOutboxRelay,
        TokensRepository,
        OrganizationsRepository,
        TokenEvents,
        TokensService,
        OrganizationsService,
        BootstrapService,
        { provide: BusSigningKeys, useFactory: () => BusSigningKeys.load(config.NATS_AUTH_DIR) },
        AgentIdentitiesRepository,
        AgentJwtSigner,
        AgentsAccountPublisher,
        AgentIdentitiesService,
      ],
    };
  }
}
