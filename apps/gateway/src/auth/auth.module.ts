import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { CachedTokenVerifier } from '@app/auth';
import { NATS_CONNECTION, RpcClient } from '@app/messaging';
import { ApiKeyGuard } from './api-key.guard';

@Injectable()
class VerifierStopper implements OnApplicationShutdown {
  constructor(@Inject(CachedTokenVerifier) private readonly verifier: CachedTokenVerifier) {}
  onApplicationShutdown(): void {
    this.verifier.stop();
  }
}

/**
 * One CachedTokenVerifier per gateway process, listening for revocations from start-up.
 * Global so any controller module can use `@UseGuards(ApiKeyGuard)`.
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
    ApiKeyGuard,
    VerifierStopper,
  ],
  exports: [CachedTokenVerifier, ApiKeyGuard],
})
export class AuthModule {}
