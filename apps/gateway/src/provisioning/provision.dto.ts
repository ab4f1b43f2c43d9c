import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ENVIRONMENT_NAME_PATTERN } from '@app/contracts';

/** `POST /api/v1/agent/provision` body. */
export class ProvisionBody {
  @ApiProperty({ example: 'docker', description: 'One of GET /api/v1/agent/types' })
  @IsString({ message: 'agent_type must be a string' })
  @MinLength(1, { message: 'agent_type must not be empty' })
  @MaxLength(64)
  agent_type!: string;

  @ApiProperty({ example: 'prod-1', description: 'Created on first use. Lowercase letters, digits, dashes.' })
  @Matches(ENVIRONMENT_NAME_PATTERN, {
    message:
      'environment_name must be lowercase letters, digits and dashes, starting with a letter or digit (max 63)',
  })
  environment_name!: string;

  @ApiPropertyOptional({
    example: { log_level: 'info' },
    description:
      "The type's configuration (see its schema in GET /api/v1/agent/types); defaults fill the rest.",
  })
  @IsOptional()
  @IsObject({ message: 'config must be an object' })
  config?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: '2030-01-01T00:00:00Z',
    description: 'When the enrollment token stops working',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO 8601 date-time' })
  expires_at?: string;

  @ApiPropertyOptional({ example: 10, description: 'How many agents may enroll with the token' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_uses?: number;
}
