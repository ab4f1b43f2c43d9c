import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery } from '../http/page-query.dto';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { AgentStatus, AgentStatuses, ENVIRONMENT_NAME_PATTERN } from '@app/contracts';

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

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the hostname' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;
}
