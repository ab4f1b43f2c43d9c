import { apiKeyActor } from '../agents/fleet.client';
import { Injectable } from '@nestjs/common';
import {
  EnsureEnvironmentRequest,
  Environment,
  IssuedToken,
  NotFoundError,
  OrganizationScopedRequest,
  RotatedToken,
  Subjects,
  TokenMetadata,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { TokensClient } from './tokens.client';

export interface EnvironmentTokenCaller {
  organizationId: string;
  apiKeyId: string;
}

/**
 * An environment's enrollment tokens. The one rule for environments: issuing a token creates the
 * environment visibly (provisioning lists and audits it), as `POST /agent/provision` does; any other
 * route under an environment the organisation does not have is a 404.
 */
@Injectable()
export class EnvironmentTokensService {
  constructor(
    private readonly tokens: TokensClient,
    private readonly rpc: RpcClient,
  ) {}

  async list(
    caller: EnvironmentTokenCaller,
    environment: string,
    includeRevoked: boolean,
  ): Promise<TokenMetadata[]> {
    await this.requireEnvironment(caller.organizationId, environment);
    return this.tokens.list({
      organizationId: caller.organizationId,
      kind: 'enrollment',
      environment,
      includeRevoked,
    });
  }

  async issue(
    caller: EnvironmentTokenCaller,
    environment: string,
    options: { name?: string; expiresAt?: string; maxUses?: number },
  ): Promise<IssuedToken> {
    await this.rpc.request<Environment, EnsureEnvironmentRequest>(Subjects.provisioning.ensureEnvironment, {
      organizationId: caller.organizationId,
      name: environment,
      actor: apiKeyActor(caller.apiKeyId),
    });
    return this.tokens.issue({
      kind: 'enrollment',
      organizationId: caller.organizationId,
      environment,
      ...options,
      actor: apiKeyActor(caller.apiKeyId),
    });
  }

  async revoke(caller: EnvironmentTokenCaller, environment: string, tokenId: string): Promise<TokenMetadata> {
    await this.requireEnvironment(caller.organizationId, environment);
    return this.tokens.revoke({
      organizationId: caller.organizationId,
      tokenId,
      kind: 'enrollment',
      environment,
      actor: apiKeyActor(caller.apiKeyId),
    });
  }

  async rotate(
    caller: EnvironmentTokenCaller,
    environment: string,
    tokenId: string,
    gracePeriodSeconds: number | undefined,
  ): Promise<RotatedToken> {
    await this.requireEnvironment(caller.organizationId, environment);
    return this.tokens.rotate({
      organizationId: caller.organizationId,
      tokenId,
      kind: 'enrollment',
      environment,
      gracePeriodSeconds,
      actor: apiKeyActor(caller.apiKeyId),
    });
  }

  private async requireEnvironment(organizationId: string, name: string): Promise<void> {
    const environments = await this.rpc.request<Environment[], OrganizationScopedRequest>(
      Subjects.provisioning.environments,
      { organizationId },
    );
    if (!environments.some((e) => e.name === name)) throw new NotFoundError(`environment ${name}`);
  }
}
