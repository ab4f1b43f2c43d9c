import {
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  IsInt,
  Min,
  Max,
  IsISO8601,
} from 'class-validator';
import { Type } from 'class-transformer';
import { ENVIRONMENT_NAME_PATTERN } from './subjects';
import { PageRequest } from './pagination';
import { AgentHealth } from './agent-health';

/** How one configuration option of an agent type is described to the API and the dashboard. */
export interface ConfigFieldSchema {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'enum';
  description: string;
  required: boolean;
  default?: string | number | boolean;
  enum?: string[];
  pattern?: string;
  /** The pattern in words, as the server's error says it: "must be <this>". */
  patternDescription?: string;
  minimum?: number;
  maximum?: number;
}

export interface AgentTypeInfo {
  type: string;
  displayName: string;
  description: string;
  /** Operating systems the command builder has a variant for (`linux`, `macos`, `windows`), or `any`. */
  platforms: string[];
  config: ConfigFieldSchema[];
  /** Metrics this type reports: the declared table the docs and dashboard read. */
  metrics: { name: string; unit: string; description: string; info?: true }[];
}

export class ProvisionRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;

  @IsString()
  @MaxLength(64)
  agentType!: string;

  @Matches(ENVIRONMENT_NAME_PATTERN, {
    message:
      'environment_name must be lowercase letters, digits and dashes, starting with a letter or digit (max 63)',
  })
  environmentName!: string;

  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxUses?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;
}

export interface DeploymentCommand {
  /** `linux`, `macos`, `windows`, or `any`. */
  platform: string;
  /** `sh`, `powershell`. */
  shell: string;
  command: string;
}

export interface ProvisionResult {
  agentType: string;
  environment: string;
  /** The command to paste for the type's primary platform. */
  command: string;
  commands: DeploymentCommand[];
  instructions: string[];
  /**
   * What may stop the command from working where it runs, e.g. loopback platform URLs seen from a
   * container or a pod ("set PUBLIC_URL and AGENT_NATS_URL"). Empty when nothing is known to be wrong.
   */
  warnings: string[];
  enrollmentToken: string;
  tokenId: string;
  expiresAt: string | null;
  config: Record<string, unknown>;
}

export interface Environment {
  id: string;
  organizationId: string;
  name: string;
  createdAt: string;
}

export class OrganizationScopedRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;
}

/** `provisioning.environments.ensure`: the environment by name, created when missing. */
export class EnsureEnvironmentRequest extends OrganizationScopedRequest {
  @Matches(ENVIRONMENT_NAME_PATTERN, {
    message:
      'environment must be lowercase letters, digits and dashes, starting with a letter or digit (max 63)',
  })
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;
}

/** A list request of one organisation: its id plus `limit` / `offset`. */
export class OrganizationPageRequest extends PageRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;
}

/** degraded: heartbeating but unwell (see AgentHealth.reasons); stopped: a clean stop was announced. */
export const AgentStatuses = ['pending', 'online', 'degraded', 'offline', 'stopped', 'revoked'] as const;
export type AgentStatus = (typeof AgentStatuses)[number];

/** Columns the agents list sorts by: `hostname`, or `-hostname` for descending. Default `-first_seen_at`. */
export const AgentSortKeys = [
  'hostname',
  'id',
  'environment',
  'type',
  'status',
  'version',
  'first_seen_at',
  'last_seen_at',
] as const;
export type AgentSortKey = (typeof AgentSortKeys)[number];
export const AGENT_SORT_VALUES: string[] = AgentSortKeys.flatMap((k) => [k, `-${k}`]);

// A mixin needs exactly this constructor type (TS2545).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Constructor = new (...args: any[]) => object;

/**
 * The filters of the agents list, declared once on top of `Base`: the list request has them beside its
 * organisation and page, and a bulk action's `AgentSelector` is nothing else.
 */
export function WithAgentFilters<TBase extends Constructor>(Base: TBase) {
  class AgentFilters extends Base {
    @IsOptional()
    @Matches(ENVIRONMENT_NAME_PATTERN)
    environment?: string;

    @IsOptional()
    @IsIn(AgentStatuses as unknown as string[])
    status?: AgentStatus;

    @IsOptional()
    @IsString()
    @MaxLength(64)
    type?: string;

    /** `key=value` */
    @IsOptional()
    @IsString()
    @MaxLength(200)
    label?: string;

    /** Case-insensitive substring of the hostname or the agent id. */
    @IsOptional()
    @IsString()
    @MaxLength(200)
    search?: string;
  }
  return AgentFilters;
}

export class ListAgentsRequest extends WithAgentFilters(OrganizationPageRequest) {
  /** `hostname`, `-last_seen_at`, …: one of AGENT_SORT_VALUES. */
  @IsOptional()
  @IsIn(AGENT_SORT_VALUES)
  sort?: string;
}

export class AgentRefRequest extends OrganizationScopedRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  agentId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;
}

export interface AgentRecord {
  id: string;
  organizationId: string;
  environment: string;
  type: string;
  hostname: string;
  hostId: string;
  os: string;
  version: string;
  status: AgentStatus;
  labels: Record<string, string>;
  firstSeenAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
  /** Health from the last heartbeat (reasons, components, version), added by the gateway from ingestion; null: not heard. */
  health?: AgentHealth | null;
}

export class ListAuditRequest extends OrganizationPageRequest {
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  /** Entries whose action starts with this (`agent.`: every agent action). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  actionPrefix?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  agentId?: string;
}

export interface AuditEntry {
  id: string;
  organizationId: string;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

/** `fleet.agents.counts`: how many agents share one environment, type and status. */
export interface AgentCountGroup {
  environment: string;
  type: string;
  status: AgentStatus;
  count: number;
}

/** The organisation's agents counted in one grouped query; groups with no agent are absent. */
export interface AgentCounts {
  groups: AgentCountGroup[];
}
