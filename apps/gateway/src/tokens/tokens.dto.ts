import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import {
  ApiKeyScope,
  ApiKeyScopes,
  IssuedToken,
  RotatedToken,
  TokenKind,
  TokenKinds,
  TokenMetadata,
} from '@app/contracts';

const MAX_GRACE_SECONDS = 30 * 24 * 3600;

/** HTTP bodies and responses are snake_case; the NATS wire (contracts) is camelCase. */
export class IssueEnrollmentTokenBody {
  @ApiPropertyOptional({ example: 'laptops', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2030-01-01T00:00:00Z',
    description: 'When the token stops working (ISO 8601).',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1_000_000,
    example: 50,
    description: 'How many agents may enroll with it.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_uses?: number;
}

export class CreateApiKeyBody {
  @ApiPropertyOptional({ example: 'ci', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2030-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string;

  @ApiPropertyOptional({
    enum: ApiKeyScopes,
    // No `default`: generated clients would make the field required. The default is in the words.
    description:
      'Default admin. read: every GET; provision: also provisioning, enrollment tokens, revoking/labelling agents, acknowledging alerts; admin: also API keys and alerting configuration.',
  })
  @IsOptional()
  @IsIn(ApiKeyScopes as unknown as string[])
  scope?: ApiKeyScope;
}

export class RotateTokenBody {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_GRACE_SECONDS,
    example: 3600,
    description:
      'How long the old secret keeps working (default: the service’s TOKEN_ROTATION_GRACE_SECONDS).',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_SECONDS)
  grace_period_seconds?: number;
}

export class ListTokensQuery {
  @ApiPropertyOptional({ type: Boolean, description: 'Include revoked tokens (default false).' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  include_revoked?: boolean;
}

export class TokenResponse {
  @ApiProperty({ example: '1c9e7a5b-3d2f-4b8a-9e6c-0f1d2e3a4b5c' }) id!: string;
  @ApiProperty({ enum: TokenKinds, example: 'enrollment' }) kind!: TokenKind;
  @ApiProperty({ example: '0b6f3c2e-9a41-4c55-8d1e-5f2a7b9c0d13' }) organization_id!: string;
  @ApiProperty({ type: String, nullable: true, example: 'prod-1', description: 'null for an API key' })
  environment!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'laptops' }) name!: string | null;
  @ApiProperty({ example: 'rca_et_AbCd…', description: 'The first characters of the secret.' }) hint!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:00:00.000Z' }) created_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2030-01-01T00:00:00.000Z' })
  expires_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) revoked_at!:
    string | null;
  @ApiProperty({ type: Number, nullable: true, example: 50 }) max_uses!: number | null;
  @ApiProperty({ example: 3 }) uses!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-01-05T09:30:00.000Z' })
  last_used_at!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'Set once rotated: the old secret works until then.',
  })
  grace_until!: string | null;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'The token that replaced it' })
  replaced_by!: string | null;
  @ApiProperty({
    enum: ApiKeyScopes,
    nullable: true,
    example: 'admin',
    description: 'API keys: what the key may do (read, provision, admin); null for enrollment tokens.',
  })
  scope!: ApiKeyScope | null;
}

export class IssuedTokenResponse extends TokenResponse {
  @ApiProperty({
    example: 'rca_et_AbCd4kXnQ2v8Lm3pR7tY9wB1cD5fG6hJ0sA2eK4nM8qP',
    description: 'The secret. Shown only in this response: store it now.',
  })
  secret!: string;
}

export class RotatedTokenResponse {
  @ApiProperty({ type: IssuedTokenResponse }) token!: IssuedTokenResponse;
  @ApiProperty({ type: TokenResponse }) previous!: TokenResponse;
}

export class TokenListResponse {
  @ApiProperty({ type: [TokenResponse] }) tokens!: TokenResponse[];
}

export class ApiKeyListResponse {
  @ApiProperty({ type: [TokenResponse] }) api_keys!: TokenResponse[];
}

/** Wire metadata → HTTP JSON. Built field by field, so nothing unlisted (a hash) can leak. */
export function toTokenResponse(token: TokenMetadata): TokenResponse {
  return {
    id: token.id,
    kind: token.kind,
    organization_id: token.organizationId,
    environment: token.environment,
    name: token.name,
    hint: token.hint,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
    max_uses: token.maxUses,
    uses: token.uses,
    last_used_at: token.lastUsedAt,
    grace_until: token.graceUntil,
    replaced_by: token.replacedBy,
    scope: token.scope ?? null,
  };
}

export function toIssuedTokenResponse(token: IssuedToken): IssuedTokenResponse {
  return { ...toTokenResponse(token), secret: token.secret };
}

export function toRotatedTokenResponse(rotated: RotatedToken): RotatedTokenResponse {
  return { token: toIssuedTokenResponse(rotated.token), previous: toTokenResponse(rotated.previous) };
}
