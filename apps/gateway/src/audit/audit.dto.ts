import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery } from '../http/page-query.dto';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** `GET /api/v1/audit` query string. */
export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'agent.revoked' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ description: 'Entries about this agent' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  agent_id?: string;
}
