import { Module } from '@nestjs/common';
import { ApiKeysController } from './api-keys.controller';
import { EnvironmentTokensController } from './environment-tokens.controller';
import { TokensClient } from './tokens.client';
import { EnvironmentTokensService } from './environment-tokens.service';

/** HTTP routes for enrollment tokens and API keys, answered by the token service over NATS. */
@Module({
  controllers: [EnvironmentTokensController, ApiKeysController],
  providers: [TokensClient, EnvironmentTokensService],
  exports: [TokensClient],
})
export class TokensRoutesModule {}
