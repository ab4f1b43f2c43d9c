import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  AgentHealth,
  ComponentHealth,
  HealthReason,
  HealthReasonKind,
  HealthReasonKinds,
  MAX_HEARTBEAT_SOURCES,
  SourceHealth,
} from '@app/contracts';
import { SnakeCased } from '../live/snake-case';

export class HealthReasonView implements SnakeCased<HealthReason> {
  @ApiProperty({ enum: HealthReasonKinds, example: 'collector_errors' }) kind!: HealthReasonKind;
  @ApiProperty({
    example: 'collector:containers',
    description: '`collector:<name>`, `buffer`, `delivery` or `clock`',
  })
  component!: string;
  @ApiProperty({ example: 'containers: connect ENOENT /var/run/docker.sock' }) message!: string;
}

export class ComponentHealthView implements SnakeCased<ComponentHealth> {
  @ApiProperty({ example: 'buffer' }) component!: string;
  @ApiProperty({ example: true }) ok!: boolean;
  @ApiProperty({ example: '0 batches waiting, 0% full' }) detail!: string;
}

export class SourceHealthView implements SnakeCased<SourceHealth> {
  @ApiProperty({
    example: 'scrape:checkout',
    description: '`scrape:<job>`, `exec:<name>`, `plugin:<name>` or `statsd`',
  })
  name!: string;
  @ApiProperty({ example: true, description: 'False when its last run failed' }) up!: boolean;
  @ApiPropertyOptional({
    example: 'timed out after 5000 ms',
    description: 'Why the last run failed, or what it dropped (series past max_series); absent when clean',
  })
  last_error?: string;
  @ApiProperty({ example: 41.5 }) last_duration_ms!: number;
  @ApiProperty({ example: 212, description: 'Series the last run kept' }) series!: number;
  @ApiProperty({
    example: 1767607190000,
    description: 'When the last run started, ms since epoch (agent clock)',
  })
  last_run_at!: number;
}

/** The health part of an agent's record, from its last heartbeat. */
export class AgentHealthView implements SnakeCased<AgentHealth> {
  @ApiProperty({ type: [HealthReasonView], description: 'Why the agent is degraded; empty when it is well' })
  reasons!: HealthReasonView[];
  @ApiProperty({
    type: [ComponentHealthView],
    description: 'Each part of the agent as its last heartbeat shows it',
  })
  components!: ComponentHealthView[];
  @ApiPropertyOptional({
    type: [SourceHealthView],
    maxItems: MAX_HEARTBEAT_SOURCES,
    description:
      'Its application-metrics sources (scrape targets, exec and in-process plugins, StatsD, OTLP) as its last ' +
      'heartbeat reported them; absent when it has none',
  })
  sources?: SourceHealthView[];
  @ApiProperty({
    type: String,
    nullable: true,
    example: '0.1.0',
    description: 'Version in its last heartbeat',
  })
  version!: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1767607195000,
    description: 'That heartbeat, ms since epoch',
  })
  reported_at!: number | null;
}
