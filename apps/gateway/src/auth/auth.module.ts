import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { AgentDirectory, CachedTokenVerifier } from '@app/auth';
import { NATS_CONNECTION, RpcClient } from '@app/messaging';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeyGuard } from './api-key.guard';

@Injectable()
class VerifierStopper implements OnApplicationShutdown {
  constructor(
    @Inject(CachedTokenVerifier) private readonly verifier: CachedTokenVerifier,
    @Inject(AgentDirectory) private readonly directory: AgentDirectory,
  ) {}
  onApplicationShutdown(): void {
    this.verifier.stop();
    this.directory.stop();
  }
}

/**
 * One CachedTokenVerifier (API keys) and one AgentDirectory (agents' keys) per gateway process,
 * listening for revocations from start-up. Global so any controller module can use `@UseGuards(ApiKeyGuard)`.
 */
@Global()
@Module({
  providers: [
    {
      provide: CachedTokenVerifier,
      useFactory: (rpc: RpcClient, nc: NatsConnection) => {
        const verifier = new CachedTokenVerifier(rpc, nc);
        verifier.start();
        return verifier;
      },
      inject: [RpcClient, NATS_CONNECTION],
    },
    {
      provide: AgentDirectory,
      useFactory: (rpc: RpcClient, nc: NatsConnection) => {
        const directory = new AgentDirectory(rpc, nc);
        directory.start();
        return directory;
      },
      inject: [RpcClient, NATS_CONNECTION],
    },
    ApiKeyAuthenticator,
    ApiKeyGuard,
    VerifierStopper,
  ],
  exports: [CachedTokenVerifier, AgentDirectory, ApiKeyAuthenticator, ApiKeyGuard],
})
export class AuthModule {}
