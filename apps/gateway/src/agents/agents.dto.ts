import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery } from '../http/page-query.dto';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { AGENT_SORT_VALUES, AgentStatus, AgentStatuses, ENVIRONMENT_NAME_PATTERN } from '@app/contracts';

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
