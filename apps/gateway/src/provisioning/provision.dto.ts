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
import {
  AgentTypeInfo,
  ConfigFieldSchema,
  DeploymentCommand,
  ENVIRONMENT_NAME_PATTERN,
  Environment,
  ProvisionResult,
} from '@app/contracts';
import { SnakeCased } from '../live/snake-case';

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
    type: 'object',
    additionalProperties: true,
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

/** One configuration option of an agent type. */
export class ConfigFieldView implements SnakeCased<ConfigFieldSchema> {
  @ApiProperty({ example: 'log_level' }) name!: string;
  @ApiProperty({ enum: ['string', 'integer', 'boolean', 'enum'], example: 'enum' })
  type!: ConfigFieldSchema['type'];
  @ApiProperty({ example: 'How much the agent logs' }) description!: string;
  @ApiProperty({ example: false }) required!: boolean;
  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }],
    example: 'info',
  })
  default?: string | number | boolean;
  @ApiPropertyOptional({ type: [String], example: ['debug', 'info', 'warn', 'error'] }) enum?: string[];
  @ApiPropertyOptional({ example: '^[a-z0-9-]+$' }) pattern?: string;
  @ApiPropertyOptional({
    example: 'lowercase letters, digits and dashes',
    description: 'The pattern in words, as the error says it',
  })
  pattern_description?: string;
  @ApiPropertyOptional({ example: 1 }) minimum?: number;
  @ApiPropertyOptional({ example: 10 }) maximum?: number;
}

/** A metric an agent type declares it reports. */
export class DeclaredMetricView {
  @ApiProperty({ example: 'docker.daemon.cpus' }) name!: string;
  @ApiProperty({ example: '1', description: 'UCUM-style unit: `1`, `By`, `%`, `s`…' }) unit!: string;
  @ApiProperty({ example: 'CPUs the daemon sees.' }) description!: string;
  @ApiPropertyOptional({
    enum: [true],
    description: 'Informational: a value to show, not a series to chart',
  })
  info?: true;
}

/** `GET /api/v1/agent/types` item. */
export class AgentTypeView implements SnakeCased<AgentTypeInfo> {
  @ApiProperty({ example: 'docker' }) type!: string;
  @ApiProperty({ example: 'Docker host' }) display_name!: string;
  @ApiProperty({
    example:
      'A Docker Engine: daemon, containers by state, and CPU, memory, network and block I/O per running container.',
  })
  description!: string;
  @ApiProperty({
    type: [String],
    example: ['any'],
    description:
      'Operating systems the install command has a variant for (`linux`, `macos`, `windows`), or `any`',
  })
  platforms!: string[];
  @ApiProperty({ type: [ConfigFieldView] }) config!: ConfigFieldView[];
  @ApiProperty({ type: [DeclaredMetricView] }) metrics!: DeclaredMetricView[];
}

export class DeploymentCommandView implements SnakeCased<DeploymentCommand> {
  @ApiProperty({ example: 'linux', description: '`linux`, `macos`, `windows` or `any`' }) platform!: string;
  @ApiProperty({ example: 'sh', description: '`sh` or `powershell`' }) shell!: string;
  @ApiProperty({
    example: `(f=$(mktemp) && trap 'rm -f "$f"' EXIT && curl -fsSL https://rca.example.com/install.sh -o "$f" && printf '%s\\n' rca_et_… | sudo sh "$f" --token-file - --nats-url tls://nats.example.com:4222 --platform-url https://rca.example.com --log-level info)`,
  })
  command!: string;
}

/** `POST /api/v1/agent/provision` answer: the install command(s), with a new enrollment token. */
export class ProvisionResultView implements SnakeCased<ProvisionResult> {
  @ApiProperty({ example: 'docker' }) agent_type!: string;
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({
    example: `(f=$(mktemp) && trap 'rm -f "$f"' EXIT && curl -fsSL https://rca.example.com/install.sh -o "$f" && printf '%s\\n' rca_et_… | sudo sh "$f" --token-file - --nats-url tls://nats.example.com:4222 --platform-url https://rca.example.com --log-level info)`,
    description: "The command for the type's primary platform",
  })
  command!: string;
  @ApiProperty({ type: [DeploymentCommandView] }) commands!: DeploymentCommandView[];
  @ApiProperty({ type: [String], example: ['Run the command on the Docker host as root.'] })
  instructions!: string[];
  @ApiProperty({
    type: [String],
    example: [],
    description: 'What may stop the command from working where it runs (e.g. a loopback platform URL)',
  })
  warnings!: string[];
  @ApiProperty({
    example: 'rca_et_4kXnQ2v8Lm3pR7tY9wB1cD5fG6hJ0sA2eK4nM8qP',
    description: 'The enrollment token. Shown only in this response.',
  })
  enrollment_token!: string;
  @ApiProperty({ example: '1c9e7a5b-3d2f-4b8a-9e6c-0f1d2e3a4b5c' }) token_id!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-01-06T10:00:00.000Z' })
  expires_at!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { log_level: 'info' },
    description: 'The configuration with its defaults filled in',
  })
  config!: Record<string, unknown>;
}

export class EnvironmentView implements SnakeCased<Environment> {
  @ApiProperty({ example: 'env_6a1f0c8e-2d4b-4f7a-9b3c-5e8d1a2f4c6b' }) id!: string;
  @ApiProperty({ example: '0b6f3c2e-9a41-4c55-8d1e-5f2a7b9c0d13' }) organization_id!: string;
  @ApiProperty({ example: 'prod-1' }) name!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:00:00.000Z' }) created_at!: string;
}
