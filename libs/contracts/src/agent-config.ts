import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ENVIRONMENT_NAME_PATTERN } from './subjects';
import { OrganizationScopedRequest } from './provisioning';

/**
 * Remote configuration (issue 14, part 3). An environment has a versioned configuration, an agent an
 * optional override; each save is a new immutable version in the environment's one sequence, so the
 * version an agent runs ("applied v7") names exactly the save after which its effective config was made.
 */

export const AGENT_CONFIG_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type AgentConfigLogLevel = (typeof AGENT_CONFIG_LOG_LEVELS)[number];
/** Collector names: what an agent type calls its collectors (`cpu`, `containers`, …). */
export const COLLECTOR_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
export const MAX_CONFIG_COLLECTORS = 32;
export const MAX_CONFIG_LABELS = 32;
export const CONFIG_LABEL_KEY_PATTERN = /^[A-Za-z0-9_./-]{1,63}$/;
export const MAX_CONFIG_LABEL_VALUE_LENGTH = 200;
/** Longest interval a config may set: the bound of a heartbeat's `intervalSeconds`. */
export const MAX_CONFIG_INTERVAL_SECONDS = 3600;

/**
 * What remote configuration may set. Every field is optional: an unset field leaves the agent's own
 * start-up value (its flags and RCA_* variables). Validated by the API and again by the agent.
 */
export class AgentConfigSettings {
  @IsOptional()
  @IsIn(AGENT_CONFIG_LOG_LEVELS as unknown as string[])
  logLevel?: AgentConfigLogLevel;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CONFIG_INTERVAL_SECONDS)
  heartbeatIntervalSeconds?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CONFIG_INTERVAL_SECONDS)
  collectIntervalSeconds?: number;

  /** The collectors to run, by name; a name the agent's type does not have makes the agent reject the config. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_CONFIG_COLLECTORS)
  @Matches(COLLECTOR_NAME_PATTERN, { each: true })
  collectors?: string[];

  /** Labels the agent reports; merged over the ones it enrolled with (an override's win over the environment's). */
  @IsOptional()
  @IsObject()
  labels?: Record<string, string>;

  /**
   * Application-metrics sources by section (`scrape_targets`, `exec_plugins`, `statsd`; docs/agent.md):
   * each section set replaces the agent's own (its RCA_* settings), an unset one leaves it. The sections
   * are the agent's own JSON, validated by the agent's section parsers at save and again by the agent.
   */
  @IsOptional()
  @IsObject()
  appMetrics?: AppMetricsSettings;
}

/** Section name → its value; the sections an agent knows are listed by agent-core (APP_METRICS_SECTIONS). */
export type AppMetricsSettings = Record<string, unknown>;

/** Label keys and values are data, so class-validator cannot see them: checked here, naming the field. */
export function labelProblems(labels: unknown, field = 'labels'): { field: string; reason: string }[] {
  if (labels === undefined) return [];
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels))
    return [{ field, reason: 'must be an object of text values' }];
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > MAX_CONFIG_LABELS) return [{ field, reason: `at most ${MAX_CONFIG_LABELS} labels` }];
  const problems: { field: string; reason: string }[] = [];
  for (const [key, value] of entries) {
    if (!CONFIG_LABEL_KEY_PATTERN.test(key))
      problems.push({ field: `${field}.${key}`, reason: 'key must be 1-63 letters, digits, _ . / -' });
    else if (typeof value !== 'string' || value.length > MAX_CONFIG_LABEL_VALUE_LENGTH)
      problems.push({
        field: `${field}.${key}`,
        reason: `must be text of at most ${MAX_CONFIG_LABEL_VALUE_LENGTH} characters`,
      });
  }
  return problems;
}

/** One configuration as an agent receives it: the version and the merged settings. */
export class AgentConfigDocument {
  @IsInt()
  @Min(0)
  version!: number;

  @ValidateNested()
  @Type(() => AgentConfigSettings)
  settings!: AgentConfigSettings;
}

/**
 * `agents.<env>.<agentId>.config` request body (request/reply, the agent → provisioning, queue group):
 * `fetch` asks for the current config (the reply is an AgentConfigDocument, version 0 when there is
 * none); `ack` reports the outcome of applying `version` (the reply is `{ "recorded": true }`).
 */
export const AgentConfigRequestTypes = ['fetch', 'ack'] as const;
export class AgentConfigRequest {
  @IsIn(AgentConfigRequestTypes as unknown as string[])
  type!: (typeof AgentConfigRequestTypes)[number];

  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;

  /** ack: true when the agent now runs `version`; false when it kept the last good one. */
  @IsOptional()
  @IsBoolean()
  applied?: boolean;

  /** ack with applied false: why the agent rejected it. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  error?: string;
}

export interface AgentConfigAckReply {
  recorded: true;
}

/** Where an agent stands with its effective config. `none`: no remote config applies to it. */
export const AgentConfigStates = ['none', 'pending', 'applied', 'failed'] as const;
export type AgentConfigState = (typeof AgentConfigStates)[number];

export interface AgentConfigStatus {
  state: AgentConfigState;
  /** The version it should run (0: none). */
  desiredVersion: number;
  /** The last version it reported running. */
  appliedVersion: number | null;
  /** The last version it rejected, and why. */
  failedVersion: number | null;
  error: string | null;
  reportedAt: string | null;
}

/** One saved version: of the environment's config, or of an agent's override (`settings` null: removed). */
export interface ConfigVersionRecord {
  version: number;
  environment: string;
  /** Null for the environment's config. */
  agentId: string | null;
  settings: AgentConfigSettings | null;
  actor: string;
  createdAt: string;
}

export interface EnvironmentConfigView {
  environment: string;
  /** The current one; null before the first save. */
  current: ConfigVersionRecord | null;
  /** Newest first. */
  history: ConfigVersionRecord[];
}

export interface AgentConfigView {
  agentId: string;
  environment: string;
  /** What the agent should run: the environment's settings with its override over them. */
  effective: AgentConfigDocument;
  environmentConfig: ConfigVersionRecord | null;
  override: ConfigVersionRecord | null;
  status: AgentConfigStatus;
}

export class EnvironmentConfigRequest extends OrganizationScopedRequest {
  @Matches(ENVIRONMENT_NAME_PATTERN)
  environment!: string;
}

export class SaveEnvironmentConfigRequest extends EnvironmentConfigRequest {
  @ValidateNested()
  @Type(() => AgentConfigSettings)
  settings!: AgentConfigSettings;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  actor!: string;
}

export class AgentConfigRefRequest extends OrganizationScopedRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  agentId!: string;
}

/** PUT (settings given) or DELETE (settings absent) of an agent's override. */
export class SaveAgentOverrideRequest extends AgentConfigRefRequest {
  @IsOptional()
  @ValidateNested()
  @Type(() => AgentConfigSettings)
  settings?: AgentConfigSettings;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  actor!: string;
}

/** `fleet.configs.status`: the config state of a page of agents (the agents table shows it). */
export class AgentConfigStatusesRequest extends OrganizationScopedRequest {
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  agentIds!: string[];
}

export interface AgentConfigStatusesReply {
  /** Agent id → status; agents unknown to the organisation are left out. */
  statuses: Record<string, AgentConfigStatus>;
}

/** The effective settings: the environment's, with the override's fields over them (labels merged by key). */
export function mergeConfigSettings(
  environment: AgentConfigSettings | null | undefined,
  override: AgentConfigSettings | null | undefined,
): AgentConfigSettings {
  const merged: AgentConfigSettings = { ...(environment ?? {}), ...(override ?? {}) };
  if (environment?.labels || override?.labels)
    merged.labels = { ...(environment?.labels ?? {}), ...(override?.labels ?? {}) };
  // By section: an override's scrape_targets replace the environment's, its other sections stay.
  if (environment?.appMetrics || override?.appMetrics)
    merged.appMetrics = { ...(environment?.appMetrics ?? {}), ...(override?.appMetrics ?? {}) };
  for (const key of Object.keys(merged) as (keyof AgentConfigSettings)[])
    if (merged[key] === undefined) delete merged[key];
  return merged;
}
