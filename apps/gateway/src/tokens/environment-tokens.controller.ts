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
import { ApiJsonBody } from '../http/openapi.decorators';
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
import { EnvironmentTokensService } from './environment-tokens.service';

/** An environment's enrollment tokens, scoped to the caller's organisation. */
@ApiTags('tokens')
@ApiKeyAuth()
@Controller('api/v1/environments/:env/tokens')
export class EnvironmentTokensController {
  constructor(private readonly tokens: EnvironmentTokensService) {}

  @Get()
  @ApiOperation({ summary: "List an environment's enrollment tokens (metadata only)" })
  @ApiOkResponse({ type: TokenListResponse })
  @ApiNotFoundResponse({ description: 'The organisation has no such environment' })
  async list(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @ValidQuery() query: ListTokensQuery,
  ): Promise<TokenListResponse> {
    const tokens = await this.tokens.list(auth, env, query.include_revoked ?? false);
    return { tokens: tokens.map(toTokenResponse) };
  }

  @Post()
  @ApiOperation({
    summary: 'Issue an enrollment token; the secret is in this response only',
    description: 'Creates the environment when the organisation has none by that name (listed and audited).',
  })
  @ApiJsonBody(
    IssueEnrollmentTokenBody,
    { name: 'laptops', expires_at: '2030-01-01T00:00:00Z', max_uses: 50 },
    { description: 'Every field is optional; so is the body', required: false },
  )
  @ApiCreatedResponse({ type: IssuedTokenResponse })
  @ApiBadRequestResponse({ description: 'Invalid body; `errors` names each field' })
  async issue(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @ValidBody() body: IssueEnrollmentTokenBody,
  ): Promise<IssuedTokenResponse> {
    const issued = await this.tokens.issue(auth, env, {
      name: body.name,
      expiresAt: body.expires_at,
      maxUses: body.max_uses,
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
    const revoked = await this.tokens.revoke(auth, env, id);
    return toTokenResponse(revoked);
  }

  @Post(':id/rotate')
  @ApiOperation({ summary: 'Replace the secret; the old one keeps working for the grace period' })
  @ApiJsonBody(
    RotateTokenBody,
    { grace_period_seconds: 3600 },
    {
      description: 'Optional: no body keeps the default grace period',
      required: false,
    },
  )
  @ApiCreatedResponse({ type: RotatedTokenResponse })
  @ApiBadRequestResponse({ description: 'Invalid body; `errors` names each field' })
  @ApiNotFoundResponse({ description: 'No such token in this environment of your organisation' })
  async rotate(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @Param('id') id: string,
    @ValidBody() body: RotateTokenBody,
  ): Promise<RotatedTokenResponse> {
    const rotated = await this.tokens.rotate(auth, env, id, body.grace_period_seconds);
    return toRotatedTokenResponse(rotated);
  }
}
