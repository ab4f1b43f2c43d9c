import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import {
  AGENT_SORT_VALUES,
  AgentRecord,
  AgentStatus,
  AgentStatuses,
  ENVIRONMENT_NAME_PATTERN,
  Page,
} from '@app/contracts';
import { PageQuery } from '../http/page-query.dto';
import { AgentHealthView } from './agent-health.dto';
import { SnakeCased } from '../live/snake-case';

/** `GET /api/v1/agents` query string. */
export class ListAgentsQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'prod-1' })
  @IsOptional()
  @Matches(ENVIRONMENT_NAME_PATTERN, { message: 'environment must be lowercase letters, digits and dashes' })
  environment?: string;

  @ApiPropertyOptional({ enum: AgentStatuses })
  @IsOptional()
  @IsIn(AgentStatuses as unknown as string[])
  status?: AgentStatus;

  @ApiPropertyOptional({ example: 'docker' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  type?: string;

  @ApiPropertyOptional({ example: 'team=payments', description: 'key=value; agents carrying that label' })
  @IsOptional()
  @Matches(/^[^=]+=.*$/, { message: 'label must be key=value' })
  @MaxLength(200)
  label?: string;

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the hostname or the agent id' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;

  @ApiPropertyOptional({
    enum: AGENT_SORT_VALUES,
    example: 'hostname',
    description: 'Sort column; a leading `-` sorts descending (default `-first_seen_at`)',
  })
  @IsOptional()
  @IsIn(AGENT_SORT_VALUES, { message: `sort must be one of: ${AGENT_SORT_VALUES.join(', ')}` })
  sort?: string;
}

/** An agent as `GET /agents`, `GET /agents/:id` and `DELETE /agents/:id` answer it. */
export class AgentView implements SnakeCased<AgentRecord> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) id!: string;
  @ApiProperty({ example: '0b6f3c2e-9a41-4c55-8d1e-5f2a7b9c0d13' }) organization_id!: string;
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({ example: 'docker', description: 'One of GET /api/v1/agent/types' }) type!: string;
  @ApiProperty({ example: 'web-1' }) hostname!: string;
  @ApiProperty({ example: '4c4c4544-0042-3510-8052-b4c04f4d4c31', description: 'Stable machine id' })
  host_id!: string;
  @ApiProperty({ example: 'linux' }) os!: string;
  @ApiProperty({ example: '0.1.0', description: 'Agent version' }) version!: string;
  @ApiProperty({ enum: AgentStatuses, example: 'online' }) status!: AgentStatus;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { team: 'payments' },
    description: 'As the agent enrolled with them; keys are kept as sent',
  })
  labels!: Record<string, string>;
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:58:12.000Z' }) first_seen_at!: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-01-05T10:00:00.000Z',
    description: 'Last heartbeat; null until the first',
  })
  last_seen_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  revoked_at!: string | null;
  @ApiPropertyOptional({
    type: AgentHealthView,
    nullable: true,
    description:
      'From its last heartbeat: degraded reasons, per-component health, version; null when never heard',
  })
  health?: AgentHealthView | null;
}

/** `GET /agents`: one page; `total` counts every match of the filters. */
export class AgentPage implements SnakeCased<Page<AgentRecord>> {
  @ApiProperty({ type: [AgentView] }) items!: AgentView[];
  @ApiProperty({ example: 1, description: 'Matches of the filters, all pages' }) total!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}
