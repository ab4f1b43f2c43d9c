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
import { EnvironmentParam } from '../http/params';
import { ValidBody, ValidQuery } from '../http/validation.pipe';
import {
  IssueEnrollmentTokenBody,
  IssuedTokenResponse,
  ListTokensQuery,
  RotatedTokenResponse,
  RotateTokenBody,
  TokenListResponse,
  TokenResponse,
  toIssuedTokenResponse,
  toRotatedTokenResponse,
  toTokenResponse,
} from './tokens.dto';
import { TokensClient } from './tokens.client';

/** An environment's enrollment tokens, scoped to the caller's organisation. */
@ApiTags('tokens')
@ApiKeyAuth()
@Controller('api/v1/environments/:env/tokens')
export class EnvironmentTokensController {
  constructor(private readonly tokens: TokensClient) {}

  @Get()
  @ApiOperation({ summary: "List an environment's enrollment tokens (metadata only)" })
  @ApiOkResponse({ type: TokenListResponse })
  async list(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @ValidQuery() query: ListTokensQuery,
  ): Promise<TokenListResponse> {
    const tokens = await this.tokens.list({
      organizationId: auth.organizationId,
      kind: 'enrollment',
      environment: env,
      includeRevoked: query.include_revoked ?? false,
    });
    return { tokens: tokens.map(toTokenResponse) };
  }

  @Post()
  @ApiOperation({ summary: 'Issue an enrollment token; the secret is in this response only' })
  @ApiCreatedResponse({ type: IssuedTokenResponse })
  @ApiBadRequestResponse({ description: 'Invalid body; `errors` names each field' })
  async issue(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @ValidBody() body: IssueEnrollmentTokenBody,
  ): Promise<IssuedTokenResponse> {
    const issued = await this.tokens.issue({
      kind: 'enrollment',
      organizationId: auth.organizationId,
      environment: env,
      name: body.name,
      expiresAt: body.expires_at,
      maxUses: body.max_uses,
      actor: auth.apiKeyId,
    });
    return toIssuedTokenResponse(issued);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Revoke an enrollment token (agents already enrolled keep their own credentials)',
  })
  @ApiOkResponse({ type: TokenResponse })
  @ApiNotFoundResponse({ description: 'No such token in this environment of your organisation' })
  async revoke(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @Param('id') id: string,
  ): Promise<TokenResponse> {
    const revoked = await this.tokens.revoke({
      organizationId: auth.organizationId,
      tokenId: id,
      kind: 'enrollment',
      environment: env,
      actor: auth.apiKeyId,
    });
    return toTokenResponse(revoked);
  }

  @Post(':id/rotate')
  @ApiOperation({ summary: 'Replace the secret; the old one keeps working for the grace period' })
  @ApiCreatedResponse({ type: RotatedTokenResponse })
  @ApiNotFoundResponse({ description: 'No such token in this environment of your organisation' })
  async rotate(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @Param('id') id: string,
    @ValidBody() body: RotateTokenBody,
  ): Promise<RotatedTokenResponse> {
    const rotated = await this.tokens.rotate({
      organizationId: auth.organizationId,
      tokenId: id,
      kind: 'enrollment',
      environment: env,
      gracePeriodSeconds: body.grace_period_seconds,
      actor: auth.apiKeyId,
    });
    return toRotatedTokenResponse(rotated);
  }
}
