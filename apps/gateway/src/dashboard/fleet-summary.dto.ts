import { ApiProperty } from '@nestjs/swagger';
import { AgentStatus, IngestionStats } from '@app/contracts';
import { SnakeCased } from '../live/snake-case';
import type { FleetSummary } from './fleet-summary.service';
import type { RecentOffline } from './recent-offline.reader';

/** The documented shape of `GET /api/v1/fleet/summary` (FleetSummary, snake_case). */
export class AgentStatusCounts implements Record<AgentStatus, number> {
  @ApiProperty({ example: 0 }) pending!: number;
  @ApiProperty({ example: 41 }) online!: number;
  @ApiProperty({
    example: 3,
    description: 'Heartbeating but unwell (collector errors, buffer, drops, clock)',
  })
  degraded!: number;
  @ApiProperty({ example: 2 }) offline!: number;
  @ApiProperty({ example: 1, description: 'Announced a clean stop' }) stopped!: number;
  @ApiProperty({ example: 1 }) revoked!: number;
}

export class TypeCount {
  @ApiProperty({ example: 'docker' }) type!: string;
  @ApiProperty({ example: 'Docker host' }) display_name!: string;
  @ApiProperty({ example: 30 }) count!: number;
}

export class EnvironmentCount {
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({ example: 44 }) count!: number;
}

export class RecentOfflineView implements SnakeCased<RecentOffline> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string;
  @ApiProperty({ type: String, nullable: true, example: 'web-1', description: 'null when the agent is gone' })
  hostname!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'prod-1' }) environment!: string | null;
  @ApiProperty({
    format: 'date-time',
    example: '2026-01-05T09:40:00.000Z',
    description: 'When it went offline',
  })
  at!: string;
  @ApiProperty({ type: Number, nullable: true, example: 90000, description: 'How long it had been silent' })
  silent_for_ms!: number | null;
}

export class RecentlyOfflineView {
  @ApiProperty({ example: 3600000 }) window_ms!: number;
  @ApiProperty({ type: [RecentOfflineView], description: 'Newest first, one per agent' })
  agents!: RecentOfflineView[];
  @ApiProperty({ example: false, description: 'More offline events than one scan reads' })
  truncated!: boolean;
}

export class IngestionStatsView implements SnakeCased<IngestionStats> {
  @ApiProperty({ example: 41 }) agents_online!: number;
  @ApiProperty({ example: 44 }) agents_tracked!: number;
  @ApiProperty({ example: 120394 }) heartbeats_accepted!: number;
  @ApiProperty({ example: 60211 }) metrics_batches_stored!: number;
  @ApiProperty({ example: 4816880 }) samples_stored!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { invalid_payload: 2 },
    description: 'Messages refused, by reason',
  })
  rejected_by_reason!: Record<string, number>;
  @ApiProperty({ example: 0 }) dead_lettered!: number;
  @ApiProperty({ example: 0, description: 'Metric batches waiting to be stored' }) consumer_lag!: number;
}

export class FleetSummaryView implements SnakeCased<FleetSummary> {
  @ApiProperty({ example: 44, description: 'Agents of the organisation' }) total!: number;
  @ApiProperty({ type: AgentStatusCounts }) by_status!: AgentStatusCounts;
  @ApiProperty({ type: [TypeCount] }) by_type!: TypeCount[];
  @ApiProperty({ type: [EnvironmentCount] }) by_environment!: EnvironmentCount[];
  @ApiProperty({ example: false, description: 'Only the first 100 environments are counted' })
  environments_truncated!: boolean;
  @ApiProperty({
    type: RecentlyOfflineView,
    nullable: true,
    description: 'Agents that went offline in the last hour; null when the event stream cannot be read',
  })
  recently_offline!: RecentlyOfflineView | null;
  @ApiProperty({
    type: IngestionStatsView,
    nullable: true,
    description: 'null when ingestion did not answer',
  })
  ingestion!: IngestionStatsView | null;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'Why `ingestion` is null' })
  ingestion_error!: string | null;
}
