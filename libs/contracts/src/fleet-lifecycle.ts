import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AgentConfigSettings } from './agent-config';
import { FieldError } from './errors';
import { AgentRefRequest, OrganizationScopedRequest, WithAgentFilters } from './provisioning';

/** Labels are small string pairs: at most this many per agent, keys and values bounded. */
export const MAX_AGENT_LABELS = 32;
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9_./-]{1,63}$/;
export const MAX_LABEL_VALUE_LENGTH = 255;

/** What is wrong with a label set (enrollment and label edits check the same rules); empty when nothing. */
export function labelErrors(labels: Record<string, unknown>, field = 'labels'): FieldError[] {
  const entries = Object.entries(labels);
  if (entries.length > MAX_AGENT_LABELS) return [{ field, reason: `at most ${MAX_AGENT_LABELS} labels` }];
  const errors: FieldError[] = [];
  for (const [key, value] of entries) {
    if (!LABEL_KEY_PATTERN.test(key)) {
      errors.push({ field: `${field}.${key}`, reason: 'key must be 1-63 of A-Z a-z 0-9 _ . / -' });
    } else if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE_LENGTH) {
      errors.push({
        field: `${field}.${key}`,
        reason: `value must be a string of at most ${MAX_LABEL_VALUE_LENGTH} characters`,
      });
    }
  }
  return errors;
}

/** A change to an agent's labels: `set` adds or overwrites, `remove` drops keys (absent keys are ignored). */
export class LabelChanges {
  @IsOptional()
  @IsObject()
  set?: Record<string, string>;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_AGENT_LABELS)
  @IsString({ each: true })
  @MaxLength(63, { each: true })
  remove?: string[];
}

/** `fleet.agents.labels`: one agent's labels changed. */
export class UpdateAgentLabelsRequest extends AgentRefRequest {
  @IsDefined()
  @ValidateNested()
  @Type(() => LabelChanges)
  changes!: LabelChanges;
}

/** Which agents a bulk action applies to: the filters of the agents list, nothing else. */
export class AgentSelector extends WithAgentFilters(class {}) {}

/**
 * Actions one bulk request can apply to every agent its filter selects: revoke, relabel (`labels`), or
 * assign_config (`config` saved as each agent's override, a new version each, pushed to it).
 */
export const BulkAgentActions = ['revoke', 'relabel', 'assign_config'] as const;
export type BulkAgentAction = (typeof BulkAgentActions)[number];

/**
 * Most agents one bulk request may change: each is revoked or relabelled (and audited) on its own, so
 * a request stays well inside the gateway's timeout. A filter matching more is refused (narrow it).
 */
export const MAX_BULK_AGENTS = 100;
/** Ids a dry run shows of what it would change. */
export const BULK_SAMPLE_SIZE = 20;

/** `fleet.agents.bulk` */
export class BulkAgentsRequest extends OrganizationScopedRequest {
  @IsIn(BulkAgentActions as unknown as string[])
  action!: BulkAgentAction;

  @IsDefined()
  @ValidateNested()
  @Type(() => AgentSelector)
  filter!: AgentSelector;

  /** `relabel` only. */
  @IsOptional()
  @ValidateNested()
  @Type(() => LabelChanges)
  labels?: LabelChanges;

  /** `assign_config` only: the override every selected agent gets. */
  @IsOptional()
  @ValidateNested()
  @Type(() => AgentConfigSettings)
  config?: AgentConfigSettings;

  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;
}

export interface BulkAgentFailure {
  agentId: string;
  code: string;
  message: string;
}

export interface BulkAgentsResult {
  action: BulkAgentAction;
  dryRun: boolean;
  /** Agents the filter selects. */
  matched: number;
  /** Up to BULK_SAMPLE_SIZE of their ids. */
  sampleIds: string[];
  /** Changed (0 on a dry run). */
  done: number;
  failed: number;
  failures: BulkAgentFailure[];
}

/** What `allow-reenroll` answers: the revoked agent whose host may enroll once more. */
export interface ReenrollAllowance {
  agentId: string;
  hostId: string;
  reenrollAllowedAt: string;
}

/** Per-organisation fleet settings; null = off. */
export interface FleetSettings {
  /** Agents offline (or revoked) and unheard for longer than this many days are revoked and deleted. */
  inactiveAgentCleanupDays: number | null;
}

export const MAX_INACTIVE_AGENT_CLEANUP_DAYS = 3650;

/** `fleet.settings.put` */
export class PutFleetSettingsRequest extends OrganizationScopedRequest {
  @ValidateIf((o: PutFleetSettingsRequest) => o.inactiveAgentCleanupDays !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_INACTIVE_AGENT_CLEANUP_DAYS)
  inactiveAgentCleanupDays!: number | null;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  actor?: string;
}
