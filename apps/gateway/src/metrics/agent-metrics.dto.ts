import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { METRIC_NAME_PATTERN } from '@app/contracts';

/** An instant as ms since the epoch or an ISO 8601 date-time. */
const INSTANT = /^(\d{1,16}|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:?\d{2}))$/;

/** `GET /api/v1/agents/:id/metrics` query string. */
export class AgentMetricsQuery {
  @ApiProperty({ example: 'cpu.usage_percent' })
  @Matches(METRIC_NAME_PATTERN, { message: 'name must be a metric name' })
  name!: string;

  @ApiPropertyOptional({ description: 'Start: ms since epoch or ISO 8601 (default: one hour before `to`)' })
  @IsOptional()
  @Matches(INSTANT, { message: 'from must be ms since epoch or an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'End: ms since epoch or ISO 8601 (default: now)' })
  @IsOptional()
  @Matches(INSTANT, { message: 'to must be ms since epoch or an ISO 8601 date-time' })
  to?: string;

  @ApiPropertyOptional({ description: 'Bucket width in seconds (default 60)', example: '60' })
  @IsOptional()
  @Matches(/^\d{1,5}$/, { message: 'step must be whole seconds' })
  step?: string;

  @ApiPropertyOptional({ description: 'Only series with this tag, key=value' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  tag?: string;
}

export function parseInstant(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}
