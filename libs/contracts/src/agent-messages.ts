import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  IsArray,
  Max,
} from 'class-validator';
import { AgentKeyClaim } from './agent-identity';
import { AGENT_ID_PATTERN } from './subjects';
import { AgentConfigDocument } from './agent-config';

/** Bounds that keep one agent from flooding ingestion with a single message. */
export const MAX_SAMPLES_PER_BATCH = 5000;
export const MAX_TAGS_PER_SAMPLE = 16;
export const METRIC_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_.:]{0,199}$/;
/** Longest heartbeat interval an agent may announce (the agent's own bound for RCA_HEARTBEAT_INTERVAL). */
export const MAX_HEARTBEAT_INTERVAL_SECONDS = 3600;
/**
 * Sample timestamps (`collectedAt`, `ts`) ingestion accepts, relative to its own clock: an agent may
 * have buffered a month of batches (1,000 at a long interval), and a clock a day ahead is already
 * wrong. Outside the window a batch is parked as `invalid_payload`, never stored: a timestamp of
 * 1e300 would be stored as a float by SQLite and refused by PostgreSQL's bigint.
 */
export const SAMPLE_TIME_WINDOW = { pastMs: 30 * 86_400_000, aheadMs: 86_400_000 } as const;

export class HostIdentity {
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  hostname!: string;

  /** Stable machine id (e.g. /etc/machine-id, or a generated one kept in the state file). */
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  hostId!: string;

  /** `linux` | `darwin` | `windows` | … */
  @IsString()
  @MaxLength(64)
  os!: string;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  osVersion?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  arch?: string;
}

/** `agents.enroll` body; the enrollment token is in the `Rca-Enrollment-Token` header. */
export class EnrollRequest {
  @IsString()
  @MaxLength(64)
  agentType!: string;

  @IsString()
  @MaxLength(64)
  agentVersion!: string;

  @ValidateNested()
  @Type(() => HostIdentity)
  host!: HostIdentity;

  @IsOptional()
  @IsObject()
  labels?: Record<string, string>;

  /** The key pair the agent generated on its host: only the public half, with proof of possession. */
  @ValidateNested()
  @Type(() => AgentKeyClaim)
  identity!: AgentKeyClaim;
}

export interface EnrollReply {
  agentId: string;
  /** NATS user JWT for the agent's own key: publish its own subjects, subscribe its control subject. */
  jwt: string;
  jwtExpiresAt: string;
  organizationId: string;
  environment: string;
  /** Seconds between heartbeats the platform expects (liveness is computed from it). */
  heartbeatIntervalSeconds: number;
  protocolVersion: number;
  /**
   * True when this host was already registered and got its existing record back (it proved it holds
   * the key on record); a known host without that proof is enrolled as a new agent.
   */
  reenrolled: boolean;
}

export class CollectorError {
  @IsString()
  @MaxLength(100)
  collector!: string;

  @IsString()
  @MaxLength(1000)
  error!: string;
}

/** App-metrics sources a heartbeat reports at most; the agent sends the first ones by name. */
export const MAX_HEARTBEAT_SOURCES = 100;

/**
 * One application-metrics source (a scrape target, an exec or in-process plugin, the StatsD listener)
 * as its last run left it. Optional in the heartbeat: older agents do not send it.
 */
export class SourceHealth {
  /** Its collector's name: `scrape:<job>`, `exec:<name>`, `plugin:<name>`, `statsd`. */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  /** False when its last run failed (the target did not answer, the command failed, the plugin threw). */
  @IsBoolean()
  up!: boolean;

  /** Why the last run failed, or what it dropped (series past the limit); absent when clean. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  lastError?: string;

  @IsNumber()
  @Min(0)
  lastDurationMs!: number;

  /** Series the last run produced (kept after allow/deny and the limit). */
  @IsInt()
  @Min(0)
  series!: number;

  /** When the last run started, ms since epoch, agent clock. */
  @IsNumber()
  lastRunAt!: number;
}

export class CollectionStatus {
  @IsBoolean()
  ok!: boolean;

  @IsNumber()
  at!: number;

  @IsNumber()
  @Min(0)
  durationMs!: number;

  @IsInt()
  @Min(0)
  samples!: number;

  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => CollectorError)
  errors!: CollectorError[];
}

/** `agents.<env>.<agentId>.heartbeat` body (core NATS, lossy by design). */
export class Heartbeat {
  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  /** Milliseconds since the epoch, agent clock. */
  @IsNumber()
  sentAt!: number;

  @IsString()
  @MaxLength(64)
  agentType!: string;

  @IsString()
  @MaxLength(64)
  agentVersion!: string;

  @IsNumber()
  @Min(0)
  uptimeSeconds!: number;

  @IsNumber()
  @Min(1)
  @Max(MAX_HEARTBEAT_INTERVAL_SECONDS)
  intervalSeconds!: number;

  @IsIn(['running', 'stopping'])
  state!: 'running' | 'stopping';

  @ValidateNested()
  @Type(() => HostIdentity)
  host!: HostIdentity;

  @IsOptional()
  @ValidateNested()
  @Type(() => CollectionStatus)
  lastCollection?: CollectionStatus;

  /** Metric batches waiting in the agent's buffer. */
  @IsInt()
  @Min(0)
  buffered!: number;

  /** Metric batches dropped because the buffer was full, since the agent started. */
  @IsInt()
  @Min(0)
  dropped!: number;

  /**
   * How full the buffer is, 0 to 1: the larger of its batch and byte fractions. Optional: agents
   * before 0.2 do not send it, and their buffer is then judged by nothing.
   */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  bufferFill?: number;

  /** Application-metrics sources and their health; absent when the agent has none. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_HEARTBEAT_SOURCES)
  @ValidateNested({ each: true })
  @Type(() => SourceHealth)
  sources?: SourceHealth[];
}

export class MetricSample {
  @Matches(METRIC_NAME_PATTERN)
  name!: string;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;

  @IsOptional()
  @IsString()
  @MaxLength(32)
  unit?: string;

  @IsOptional()
  @IsObject()
  tags?: Record<string, string>;

  /**
   * Milliseconds since the epoch, a whole number within SAMPLE_TIME_WINDOW of ingestion's clock;
   * defaults to the batch's `collectedAt`.
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  ts?: number;
}

/** `agents.<env>.<agentId>.metrics` body, JetStream with `Nats-Msg-Id: <agentId>:<seq>`. */
export class MetricsBatch {
  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  /** Per agent, increasing; a safe integer (both databases store it as a 64-bit integer). */
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  seq!: number;

  /** Milliseconds since the epoch, a whole number within SAMPLE_TIME_WINDOW of ingestion's clock. */
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  collectedAt!: number;

  @IsArray()
  @ArrayMaxSize(MAX_SAMPLES_PER_BATCH)
  @ValidateNested({ each: true })
  @Type(() => MetricSample)
  samples!: MetricSample[];
}

/**
 * `agents.<env>.<agentId>.control` body. `revoked`: the agent's credential is no longer accepted; the
 * agent logs it, records it in its state file and exits with code 78 (EX_CONFIG) without retrying.
 * `config`: a new configuration (`config`), applied without a restart and acknowledged on
 * `agents.<env>.<agentId>.config`.
 */
export const AgentControlTypes = ['revoked', 'config'] as const;
export type AgentControlType = (typeof AgentControlTypes)[number];

export class AgentControlMessage {
  @IsIn(AgentControlTypes as unknown as string[])
  type!: AgentControlType;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;

  /**
   * `config` only. Not validated with the message: the agent checks it itself, so a config it cannot
   * run is acknowledged as failed (with the reason) rather than dropped as an invalid message.
   */
  @IsOptional()
  @IsObject()
  config?: AgentConfigDocument;
}
