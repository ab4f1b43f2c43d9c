import { apiKeyActor } from '../agents/fleet.client';
import { Controller, Delete, Get, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ApiJsonBody } from '../http/openapi.decorators';
import { ValidBody, ValidQuery } from '../http/validation.pipe';
import {
  ApiKeyListResponse,
  CreateApiKeyBody,
  IssuedTokenResponse,
  ListTokensQuery,
  TokenResponse,
  toIssuedTokenResponse,
  toTokenResponse,
} from './tokens.dto';
import { TokensClient } from './tokens.client';

/** The calling organisation's own API keys. */
@ApiTags('api-keys')
@ApiKeyAuth()
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly tokens: TokensClient) {}

  @Get()
  @ApiOperation({ summary: "List your organisation's API keys (metadata only)" })
  @ApiOkResponse({ type: ApiKeyListResponse })
  async list(
    @CurrentOrg() auth: AuthContext,
    @ValidQuery() query: ListTokensQuery,
  ): Promise<ApiKeyListResponse> {
    const keys = await this.tokens.list({
      organizationId: auth.organizationId,
      kind: 'api_key',
      includeRevoked: query.include_revoked ?? false,
    });
    return { api_keys: keys.map(toTokenResponse) };
  }

  @Post()
  @ApiOperation({ summary: 'Create an API key; the secret is in this response only' })
  @ApiJsonBody(
    CreateApiKeyBody,
    { name: 'ci', expires_at: '2030-01-01T00:00:00Z' },
    {
      description: 'Every field is optional; so is the body',
      required: false,
    },
  )
  @ApiCreatedResponse({ type: IssuedTokenResponse })
  @ApiBadRequestResponse({ description: 'Invalid body; `errors` names each field' })
  async create(
    @CurrentOrg() auth: AuthContext,
    @ValidBody() body: CreateApiKeyBody,
  ): Promise<IssuedTokenResponse> {
    const issued = await this.tokens.issue({
      kind: 'api_key',
      organizationId: auth.organizationId,
      name: body.name,
      expiresAt: body.expires_at,
      scope: body.scope,
      actor: apiKeyActor(auth.apiKeyId),
    });
    return toIssuedTokenResponse(issued);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke an API key; every gateway refuses it within a second' })
  @ApiOkResponse({ type: TokenResponse })
  @ApiNotFoundResponse({ description: 'No such API key in your organisation' })
  async revoke(@CurrentOrg() auth: AuthContext, @Param('id') id: string): Promise<TokenResponse> {
    const revoked = await this.tokens.revoke({
      organizationId: auth.organizationId,
      tokenId: id,
      kind: 'api_key',
      actor: apiKeyActor(auth.apiKeyId),
    });
    return toTokenResponse(revoked);
  }
}
