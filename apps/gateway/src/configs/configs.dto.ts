import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, Matches, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';
import {
  AGENT_CONFIG_LOG_LEVELS,
  AgentConfigLogLevel,
  AgentConfigSettings,
  AgentConfigStatus,
  AgentConfigStatusesReply,
  AGENT_ID_PATTERN,
  AgentConfigStates,
  AgentConfigState,
  AgentConfigView,
  COLLECTOR_NAME_PATTERN,
  ConfigVersionRecord,
  EnvironmentConfigView,
  MAX_CONFIG_COLLECTORS,
  MAX_CONFIG_INTERVAL_SECONDS,
} from '@app/contracts';
import { SnakeCased } from '../live/snake-case';

/** `PUT /environments/:env/config` and `PUT /agents/:id/config`: every field optional (unset: the agent's own). */
export class ConfigSettingsBody {
  @ApiPropertyOptional({ enum: AGENT_CONFIG_LOG_LEVELS, example: 'debug' })
  @IsOptional()
  @IsIn(AGENT_CONFIG_LOG_LEVELS as unknown as string[], {
    message: `log_level must be one of: ${AGENT_CONFIG_LOG_LEVELS.join(', ')}`,
  })
  log_level?: AgentConfigLogLevel;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CONFIG_INTERVAL_SECONDS, example: 30 })
  @IsOptional()
  @IsInt({ message: 'heartbeat_interval_seconds must be a whole number of seconds' })
  @Min(1)
  @Max(MAX_CONFIG_INTERVAL_SECONDS)
  heartbeat_interval_seconds?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CONFIG_INTERVAL_SECONDS, example: 60 })
  @IsOptional()
  @IsInt({ message: 'collect_interval_seconds must be a whole number of seconds' })
  @Min(1)
  @Max(MAX_CONFIG_INTERVAL_SECONDS)
  collect_interval_seconds?: number;

  @ApiPropertyOptional({
    type: [String],
    example: ['cpu', 'memory'],
    description:
      'Collectors to run, by name (server: os, cpu, memory, disk, network); an agent whose type lacks one rejects the config and keeps its last good one',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_CONFIG_COLLECTORS)
  @Matches(COLLECTOR_NAME_PATTERN, { each: true, message: 'collectors must be collector names' })
  collectors?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { team: 'payments' },
    description:
      'Added as tags to every sample the agent sends; merged over the environment labels for an override',
  })
  @IsOptional()
  @IsObject()
  labels?: Record<string, string>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: {
      scrape_targets: [
        { url: 'http://127.0.0.1:9100/metrics', job: 'node', interval: 30, allow: ['node_*'] },
      ],
      exec_plugins: [{ name: 'queue', command: ['/usr/local/bin/queue-depth'], format: 'influx' }],
      statsd: { address: '127.0.0.1:8125' },
    },
    description:
      'Application-metrics sources by section (scrape_targets, exec_plugins, statsd, otlp; docs/agent.md): a section set ' +
      "replaces the agent's own (RCA_SCRAPE_TARGETS, …), an unset one leaves it; an override's section replaces " +
      "the environment's. Applied live; a 400 names the field (app_metrics.scrape_targets[0].url)",
  })
  @IsOptional()
  @IsObject()
  app_metrics?: Record<string, unknown>;
}

export function toSettings(body: ConfigSettingsBody): AgentConfigSettings {
  const settings: AgentConfigSettings = {
    logLevel: body.log_level,
    heartbeatIntervalSeconds: body.heartbeat_interval_seconds,
    collectIntervalSeconds: body.collect_interval_seconds,
    collectors: body.collectors,
    labels: body.labels,
    appMetrics: body.app_metrics,
  };
  for (const key of Object.keys(settings) as (keyof AgentConfigSettings)[])
    if (settings[key] === undefined) delete settings[key];
  return settings;
}

export class ConfigSettingsView implements SnakeCased<AgentConfigSettings> {
  @ApiPropertyOptional({ enum: AGENT_CONFIG_LOG_LEVELS, example: 'debug' }) log_level?: AgentConfigLogLevel;
  @ApiPropertyOptional({ example: 30 }) heartbeat_interval_seconds?: number;
  @ApiPropertyOptional({ example: 60 }) collect_interval_seconds?: number;
  @ApiPropertyOptional({ type: [String], example: ['cpu', 'memory'] }) collectors?: string[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { team: 'payments' },
  })
  labels?: Record<string, string>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Sections as saved' })
  app_metrics?: Record<string, unknown>;
}

export class ConfigVersionView implements SnakeCased<ConfigVersionRecord> {
  @ApiProperty({
    example: 7,
    description: "The environment's version sequence (configs and overrides share it)",
  })
  version!: number;
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({ type: String, nullable: true, example: null, description: "Null: the environment's config" })
  agent_id!: string | null;
  @ApiProperty({ type: ConfigSettingsView, nullable: true, description: 'Null: an override removed' })
  settings!: ConfigSettingsView | null;
  @ApiProperty({ example: 'api_key:tok_3kTMd9' }) actor!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-05T09:58:12.000Z' }) created_at!: string;
}

export class EnvironmentConfigResponse implements SnakeCased<EnvironmentConfigView> {
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({ type: ConfigVersionView, nullable: true, description: 'Null before the first save' })
  current!: ConfigVersionView | null;
  @ApiProperty({ type: [ConfigVersionView], description: 'Newest first, up to 50' })
  history!: ConfigVersionView[];
}

export class ConfigStatusView implements SnakeCased<AgentConfigStatus> {
  @ApiProperty({
    enum: AgentConfigStates,
    example: 'applied',
    description: 'none: no remote config; pending: not yet reported; applied; failed: rejected (see error)',
  })
  state!: AgentConfigState;
  @ApiProperty({ example: 7, description: 'The version the agent should run (0: none)' })
  desired_version!: number;
  @ApiProperty({ type: Number, nullable: true, example: 7 }) applied_version!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: null }) failed_version!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Why the agent rejected failed_version',
  })
  error!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-01-05T09:58:13.000Z' })
  reported_at!: string | null;
}

class EffectiveConfigView {
  @ApiProperty({ example: 7 }) version!: number;
  @ApiProperty({ type: ConfigSettingsView }) settings!: ConfigSettingsView;
}

export class AgentConfigResponse implements SnakeCased<AgentConfigView> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string;
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({
    type: EffectiveConfigView,
    description: "The environment's settings with the override over them",
  })
  effective!: EffectiveConfigView;
  @ApiProperty({ type: ConfigVersionView, nullable: true }) environment_config!: ConfigVersionView | null;
  @ApiProperty({ type: ConfigVersionView, nullable: true }) override!: ConfigVersionView | null;
  @ApiProperty({ type: ConfigStatusView }) status!: ConfigStatusView;
}

/** `GET /config-status?agent_ids=a,b`: the config state of a page of agents (the agents table). */
export class ConfigStatusQuery {
  @ApiProperty({
    example: 'ag_fH2E2Vwna1pJYKU3,ag_x81Kd0QwzP2mN4aa',
    description: 'Comma-separated agent ids, up to 500',
  })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').filter(Boolean) : value,
  )
  @IsArray({ message: 'agent_ids must be comma-separated agent ids' })
  @ArrayMaxSize(500)
  @Matches(AGENT_ID_PATTERN, { each: true, message: 'agent_ids must be comma-separated agent ids' })
  agent_ids!: string[];
}

export class ConfigStatusesResponse implements SnakeCased<AgentConfigStatusesReply> {
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ConfigStatusView' },
    description: 'Agent id → its config status; ids of other organisations are left out',
  })
  statuses!: Record<string, ConfigStatusView>;
}
