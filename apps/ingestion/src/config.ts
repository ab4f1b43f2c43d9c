import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { CommonConfig } from '@app/config';

/** Environment variables read by the ingestion service. */
export class IngestionConfig extends CommonConfig {
  /** An agent is offline after this many heartbeat intervals without a heartbeat. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  LIVENESS_MISSED_HEARTBEATS: number = 3;

  /** Interval assumed for an agent whose heartbeat does not say (seconds). */
  @Type(() => Number)
  @IsNumber()
  @Min(0.1)
  @Max(3600)
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS: number = 10;

  /** How often each instance writes its last-seen map (one multi-row upsert) and looks for silent agents. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.05)
  @Max(300)
  LAST_SEEN_FLUSH_SECONDS: number = 5;

  /** An agent whose metrics buffer is at least this full (0–1) is degraded (`buffer_filling`). */
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  @Max(1)
  HEALTH_BUFFER_FILL_FRACTION: number = 0.5;

  /** An agent whose clock differs from ingestion's by more than this (seconds) is degraded (`clock_skew`). */
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  @Max(86400)
  HEALTH_CLOCK_SKEW_SECONDS: number = 30;

  /** How long AGENT_METRICS keeps messages ingestion has not consumed yet (seconds). */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  METRICS_STREAM_MAX_AGE_SECONDS: number = 86400;

  /**
   * Size cap of AGENT_METRICS in bytes; -1 = unlimited (age still applies). Unset: 8 GiB, or half of
   * what JetStream can still reserve when that is less (a small disk); see ensureMetricsStream.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  METRICS_STREAM_MAX_BYTES?: number = undefined;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5)
  METRICS_STREAM_REPLICAS: number = 1;

  /**
   * Deliveries of one metrics message before JetStream gives up on it and ingestion parks it as
   * `max_deliveries`. Outages do not count (held messages are not redelivered); crashes with the
   * message in hand and refused writes do.
   */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(1000)
  METRICS_MAX_DELIVERIES: number = 20;

  /** Window in which JetStream drops a republished `Nats-Msg-Id` (seconds). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  METRICS_DUPLICATE_WINDOW_SECONDS: number = 120;

  /** Stored samples older than this are deleted by the retention job. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  @Max(3650)
  METRICS_RETENTION_DAYS: number = 7;

  /** How often the retention job runs (seconds). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  METRICS_RETENTION_INTERVAL_SECONDS: number = 3600;

  /**
   * How long an agent's organisation and environment are reused without asking the token service
   * again. Revocation does not wait for it: `agent.revoked` events drop the entry at once.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  AGENT_CACHE_TTL_SECONDS: number = 600;

  /**
   * SQLite only: page cache of ingestion's connection, in MiB. The cache fills as the tables grow, so
   * RSS rises by this much in the first minutes and then stays flat; more cache = faster inserts.
   */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(4096)
  SQLITE_CACHE_MIB: number = 64;

  /** Prometheus `/metrics` and `/health` port of this service; 0 disables it. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT: number = 9464;
}
