import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';
import { MAX_PAGE_SIZE } from './pagination';
import { AGENT_ID_PATTERN } from './subjects';
import { METRIC_NAME_PATTERN } from './agent-messages';
import { AgentHealth } from './agent-health';

/** Cap on buckets per query so one request cannot ask for millions of points. */
export const MAX_QUERY_BUCKETS = 2000;

export class MetricsQueryRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;

  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  @Matches(METRIC_NAME_PATTERN)
  name!: string;

  /** ms since epoch */
  @Type(() => Number)
  @IsNumber()
  from!: number;

  @Type(() => Number)
  @IsNumber()
  to!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  stepSeconds!: number;

  /** Optional tag filter, `key=value`. */
  @IsOptional()
  @IsString()
  tag?: string;
}

export interface MetricPoint {
  /** Bucket start, ms since epoch. */
  ts: number;
  avg: number;
  min: number;
  max: number;
  last: number;
  count: number;
}

export interface MetricSeries {
  tags: Record<string, string>;
  unit: string | null;
  points: MetricPoint[];
}

export interface MetricsQueryResult {
  agentId: string;
  name: string;
  from: number;
  to: number;
  stepSeconds: number;
  series: MetricSeries[];
  /** ms since epoch of the newest stored sample of this metric for this agent, whatever the range; null: none. */
  newestSampleAt: number | null;
  /**
   * True when that sample is older than the agent's offline threshold (LIVENESS_MISSED_HEARTBEATS × its
   * interval), or there is none: the agent is silent, or its metrics are not being stored (JetStream or
   * the database down). The series may then lack recent data, however empty or complete it looks.
   */
  stale: boolean;
}

export interface IngestionStats {
  agentsOnline: number;
  agentsTracked: number;
  heartbeatsAccepted: number;
  metricsBatchesStored: number;
  samplesStored: number;
  rejectedByReason: Record<string, number>;
  deadLettered: number;
  consumerLag: number;
}

/** `metrics.agents.last-seen`: one page of agents, as listed by the gateway. */
export class AgentsLastSeenRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;

  @IsArray()
  @ArrayMaxSize(MAX_PAGE_SIZE)
  @Matches(AGENT_ID_PATTERN, { each: true })
  agentIds!: string[];
}

export interface AgentsLastSeenResult {
  /** agent id → ms since epoch of its last heartbeat, for the agents ingestion has heard. */
  lastSeen: Record<string, number>;
  /** agent id → health and version from its last heartbeat (same agents as `lastSeen`). */
  health?: Record<string, AgentHealth>;
}

/** `metrics.agents.catalog`: which metrics one agent has sent lately. */
export class MetricsCatalogRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;

  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  /** Only metrics with a sample since this instant (ms since epoch); default: a day ago. */
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  since?: number;
}

/** Most distinct metric names one catalog answer lists, and tag values listed per tag key. */
export const MAX_CATALOG_METRICS = 1000;
export const MAX_CATALOG_TAG_VALUES = 50;

export interface MetricCatalogEntry {
  name: string;
  unit: string | null;
  /** Tag key → values seen (at most MAX_CATALOG_TAG_VALUES each, sorted). */
  tags: Record<string, string[]>;
  /** Newest sample, ms since epoch. */
  lastSampleAt: number;
}

export interface MetricsCatalogResult {
  agentId: string;
  since: number;
  metrics: MetricCatalogEntry[];
  /** More than MAX_CATALOG_METRICS names matched: the list is cut. */
  truncated: boolean;
}

/** Agents per `metrics.top` answer at most. */
export const MAX_TOP_AGENTS = 100;
/** Longest window `metrics.top` ranks over. */
export const MAX_TOP_WINDOW_MS = 31 * 86_400_000;
export const TOP_AGENTS_BY = ['avg', 'max', 'min', 'last'] as const;
export type TopAgentsBy = (typeof TOP_AGENTS_BY)[number];

/** `metrics.top`: the organisation's agents ranked by one metric over a window (the fleet overview's "top N"). */
export interface MetricsTopRequest {
  organizationId: string;
  name: string;
  /** ms since epoch, [from, to) */
  from: number;
  to: number;
  /** Which aggregate of the window ranks the agents, highest first. */
  by: TopAgentsBy;
  limit: number;
  /** Only series with this tag, `key=value`. */
  tag?: string;
}

export interface MetricsTopEntry {
  agentId: string;
  /** The `by` aggregate over the window, across the agent's series of the metric (e.g. every core). */
  value: number;
  avg: number;
  min: number;
  max: number;
  last: number;
  /** Samples in the window. */
  count: number;
}

export interface MetricsTopResult {
  name: string;
  from: number;
  to: number;
  by: TopAgentsBy;
  agents: MetricsTopEntry[];
}
