import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import {
  METRIC_NAME_PATTERN,
  MetricCatalogEntry,
  MetricPoint,
  MetricsCatalogResult,
  MetricSeries,
  MetricsQueryResult,
} from '@app/contracts';
import { SnakeCased } from '../live/snake-case';

/** An instant as ms since the epoch or an ISO 8601 date-time. */
const INSTANT = /^(\d{1,16}|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:?\d{2}))$/;

/** `GET /api/v1/agents/:id/metrics` query string. */
export class AgentMetricsQuery {
  @ApiPropertyOptional({
    example: 'docker.container.cpu.usage',
    description:
      'The metric to query; without it, the answer lists the metrics the agent has sent (MetricsCatalogView)',
  })
  @IsOptional()
  @Matches(METRIC_NAME_PATTERN, { message: 'name must be a metric name' })
  name?: string;

  @ApiPropertyOptional({
    description:
      'Start: ms since epoch or ISO 8601 (default: one hour before `to`; without `name`: metrics with a sample since then, default a day ago)',
  })
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

/** One bucket of a series. */
export class MetricPointView implements SnakeCased<MetricPoint> {
  @ApiProperty({ example: 1767607200000, description: 'Bucket start, ms since epoch' }) ts!: number;
  @ApiProperty({ example: 12.5 }) avg!: number;
  @ApiProperty({ example: 3.1 }) min!: number;
  @ApiProperty({ example: 27.9 }) max!: number;
  @ApiProperty({ example: 9.4 }) last!: number;
  @ApiProperty({ example: 4, description: 'Samples in the bucket' }) count!: number;
}

export class MetricSeriesView implements SnakeCased<MetricSeries> {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { container: '3f4e5d6c7b8a', name: 'web', image: 'nginx:1.27' },
    description: 'The series’ tags; keys are kept as the agent sent them',
  })
  tags!: Record<string, string>;
  @ApiProperty({ type: String, nullable: true, example: '%' }) unit!: string | null;
  @ApiProperty({ type: [MetricPointView] }) points!: MetricPointView[];
}

/** `GET /api/v1/agents/:id/metrics` answer. */
export class MetricsQueryView implements SnakeCased<MetricsQueryResult> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string;
  @ApiProperty({ example: 'docker.container.cpu.usage' }) name!: string;
  @ApiProperty({ example: 1767603600000, description: 'ms since epoch' }) from!: number;
  @ApiProperty({ example: 1767607200000, description: 'ms since epoch' }) to!: number;
  @ApiProperty({ example: 60 }) step_seconds!: number;
  @ApiProperty({ type: [MetricSeriesView] }) series!: MetricSeriesView[];
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1767607195000,
    description: 'ms since epoch of the newest stored sample of this metric, whatever the range; null: none',
  })
  newest_sample_at!: number | null;
  @ApiProperty({
    example: false,
    description:
      "The newest stored sample is older than the agent's offline threshold (or there is none): recent data may be missing",
  })
  stale!: boolean;
}

export class MetricCatalogEntryView implements SnakeCased<MetricCatalogEntry> {
  @ApiProperty({ example: 'docker.container.cpu.usage' }) name!: string;
  @ApiProperty({ type: String, nullable: true, example: '%' }) unit!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    example: { container: ['3f4e5d6c7b8a'], name: ['web'] },
    description: 'Tag key → values seen (at most 50 per key)',
  })
  tags!: Record<string, string[]>;
  @ApiProperty({ example: 1767607195000, description: 'Newest sample, ms since epoch' })
  last_sample_at!: number;
}

/** `GET /api/v1/agents/:id/metrics` without `name`: metric discovery. */
export class MetricsCatalogView implements SnakeCased<MetricsCatalogResult> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string;
  @ApiProperty({ example: 1767520800000, description: 'Metrics with a sample since this instant are listed' })
  since!: number;
  @ApiProperty({ type: [MetricCatalogEntryView], description: 'By name' }) metrics!: MetricCatalogEntryView[];
  @ApiProperty({ example: false, description: 'More metrics or series than one answer lists (1,000 names)' })
  truncated!: boolean;
}
