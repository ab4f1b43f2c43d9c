import { Type } from 'class-transformer';
import {
  IsDefined,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateIf,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { CommonConfig } from '@app/config';

/** Where ingestion sends the metrics it consumes: its own database, a Prometheus remote-write receiver, or both. */
export const METRICS_SINK_NAMES = ['store', 'remote_write'] as const;
export type MetricsSink = (typeof METRICS_SINK_NAMES)[number];

export function parseMetricsSinks(value: string): MetricsSink[] {
  return value.split(',').map((s) => s.trim()) as MetricsSink[];
}

@ValidatorConstraint({ name: 'isMetricsSinks' })
class IsMetricsSinks implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    const sinks = parseMetricsSinks(value);
    return (
      sinks.length > 0 &&
      new Set(sinks).size === sinks.length &&
      sinks.every((s) => (METRICS_SINK_NAMES as readonly string[]).includes(s))
    );
  }
  defaultMessage(): string {
    return `must be a comma-separated list of ${METRICS_SINK_NAMES.join(', ')} (each at most once), e.g. store,remote_write`;
  }
}

@ValidatorConstraint({ name: 'isHeaderObject' })
class IsHeaderObject implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const parsed: unknown = JSON.parse(value);
      return (
        typeof parsed === 'object' &&
        parsed !== null &&
        !Array.isArray(parsed) &&
        Object.entries(parsed).every(
          ([name, v]) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) && typeof v === 'string',
        )
      );
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'must be a JSON object of header names to string values, e.g. {"X-Scope-OrgID":"tenant-1"}';
  }
}

const remoteWriteOn = (config: IngestionConfig) =>
  parseMetricsSinks(config.METRICS_SINKS ?? '').includes('remote_write');

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

  /**
   * How often the metrics audit checks AGENT_METRICS against the store and stores any batch the
   * `ingestion` consumer counts delivered without a row (seconds; 0 = off). See RELIABILITY.md.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  METRICS_AUDIT_INTERVAL_SECONDS: number = 30;

  /**
   * The audit only judges messages older than this (seconds), so a batch still on its way through the
   * consumer is not read twice for nothing (a batch stored by both is stored once either way).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  METRICS_AUDIT_DELAY_SECONDS: number = 60;

  /** Stored samples older than this are deleted by the retention job. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  @Max(3650)
  METRICS_RETENTION_DAYS: number = 7;

  /**
   * Rollups (1-minute and 1-hour aggregates, what long-range charts read) older than this are deleted;
   * at least METRICS_RETENTION_DAYS is kept whatever this says.
   */
  @Type(() => Number)
  @IsNumber()
  @Min(0.01)
  @Max(3650)
  METRICS_ROLLUP_RETENTION_DAYS: number = 400;

  /** How often the compaction job merges finished hours into one chunk each and writes their rollups (seconds). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  METRICS_COMPACTION_INTERVAL_SECONDS: number = 60;

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

  /**
   * Where consumed metrics go: `store` (the embedded database the API and dashboard read),
   * `remote_write` (a Prometheus remote-write receiver: Prometheus, Mimir, Thanos, VictoriaMetrics), or
   * both. Each sink has its own durable consumer on AGENT_METRICS, so one being down never holds up the other.
   */
  @Validate(IsMetricsSinks)
  METRICS_SINKS: string = 'store';

  /** The receiver's remote-write endpoint (e.g. `http://prometheus:9090/api/v1/write`); required with `remote_write`. */
  @ValidateIf(remoteWriteOn)
  @IsDefined({ message: 'is required when METRICS_SINKS includes remote_write' })
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { message: 'must be an http(s) URL, e.g. http://prometheus:9090/api/v1/write' },
  )
  REMOTE_WRITE_URL?: string = undefined;

  /** Sent as `Authorization: Bearer <token>`. */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  REMOTE_WRITE_BEARER_TOKEN?: string = undefined;

  /** HTTP basic auth user; REMOTE_WRITE_BASIC_AUTH_PASSWORD goes with it. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  REMOTE_WRITE_BASIC_AUTH_USERNAME?: string = undefined;

  @ValidateIf((c: IngestionConfig) => c.REMOTE_WRITE_BASIC_AUTH_USERNAME !== undefined)
  @IsDefined({ message: 'is required when REMOTE_WRITE_BASIC_AUTH_USERNAME is set' })
  @IsString()
  @MaxLength(4096)
  REMOTE_WRITE_BASIC_AUTH_PASSWORD?: string = undefined;

  /** Extra request headers as a JSON object, e.g. `{"X-Scope-OrgID":"tenant-1"}` for Mimir's tenant. */
  @IsOptional()
  @Validate(IsHeaderObject)
  REMOTE_WRITE_HEADERS?: string = undefined;

  /** PEM file of the CA that signed an https receiver's certificate (unset: the system's CAs). */
  @IsOptional()
  @IsString()
  REMOTE_WRITE_CA_FILE?: string = undefined;

  /** One remote-write request's time limit; a request that takes longer is retried (seconds). */
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  @Max(300)
  REMOTE_WRITE_TIMEOUT_SECONDS: number = 30;

  /** Prometheus `/metrics` and `/health` port of this service; 0 disables it. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT: number = 9464;

  /** The configured sinks, parsed (validated above). */
  sinks(): MetricsSink[] {
    return parseMetricsSinks(this.METRICS_SINKS);
  }
}
