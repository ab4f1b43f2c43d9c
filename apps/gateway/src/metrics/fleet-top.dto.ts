import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import {
  MAX_TOP_AGENTS,
  METRIC_NAME_PATTERN,
  MetricsTopEntry,
  MetricsTopResult,
  TOP_AGENTS_BY,
  TopAgentsBy,
} from '@app/contracts';
import { SnakeCased } from '../live/snake-case';

const INSTANT = /^(\d{1,16}|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:?\d{2}))$/;

/** `GET /api/v1/metrics/top` query string. */
export class FleetTopQuery {
  @ApiProperty({ example: 'system.cpu.usage', description: 'The metric that ranks the agents' })
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

  @ApiPropertyOptional({
    enum: TOP_AGENTS_BY,
    description: 'Aggregate of the window that ranks, highest first (default avg)',
  })
  @IsOptional()
  @IsIn(TOP_AGENTS_BY as unknown as string[], { message: `by must be one of ${TOP_AGENTS_BY.join(', ')}` })
  by?: TopAgentsBy;

  @ApiPropertyOptional({ description: `Agents listed, 1–${MAX_TOP_AGENTS} (default 10)`, example: '10' })
  @IsOptional()
  @Matches(/^\d{1,3}$/, { message: 'limit must be a whole number' })
  limit?: string;

  @ApiPropertyOptional({ description: 'Only series with this tag, key=value (e.g. core=0)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  tag?: string;
}

export class FleetTopEntryView implements SnakeCased<MetricsTopEntry> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string;
  @ApiProperty({ example: 87.5, description: 'The `by` aggregate, across the agent’s series of the metric' })
  value!: number;
  @ApiProperty({ example: 87.5 }) avg!: number;
  @ApiProperty({ example: 12.0 }) min!: number;
  @ApiProperty({ example: 99.8 }) max!: number;
  @ApiProperty({ example: 91.2 }) last!: number;
  @ApiProperty({ example: 2880, description: 'Samples in the window' }) count!: number;
}

export class FleetTopView implements SnakeCased<MetricsTopResult> {
  @ApiProperty({ example: 'system.cpu.usage' }) name!: string;
  @ApiProperty({ example: 1767603600000, description: 'ms since epoch' }) from!: number;
  @ApiProperty({ example: 1767607200000, description: 'ms since epoch' }) to!: number;
  @ApiProperty({ enum: TOP_AGENTS_BY, example: 'avg' }) by!: TopAgentsBy;
  @ApiProperty({
    type: [FleetTopEntryView],
    description: 'Highest first; agents with no sample in the window are not listed',
  })
  agents!: FleetTopEntryView[];
}
