import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Variables every service reads. Properties need an initialiser (even `undefined`) so the
 * loader knows the variable exists.
 */
export class CommonConfig {
  /** Comma-separated NATS server URLs. */
  @Matches(/^(nats|tls|ws|wss):\/\/[^\s,]+(,(nats|tls|ws|wss):\/\/[^\s,]+)*$/, {
    message: 'must be one or more nats:// URLs separated by commas',
  })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  /** Optional NATS auth token or user:password in the URL; credentials files via NATS_CREDS. */
  @IsOptional()
  @IsString()
  NATS_TOKEN?: string = undefined;

  /** The process's NATS credentials file (operator mode; `npm start` generates one per service). */
  @IsOptional()
  @IsString()
  NATS_CREDS?: string = undefined;

  /** PEM file of the CA that signed the NATS server's certificate (the platform CA under `npm start`). */
  @IsOptional()
  @IsString()
  NATS_CA_FILE?: string = undefined;

  @IsString()
  @MinLength(1)
  DATA_DIR: string = './data';

  /** postgres://… — when set, PostgreSQL is used instead of SQLite files under DATA_DIR. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string = undefined;

  @IsIn(LOG_LEVELS as unknown as string[])
  LOG_LEVEL: string = 'info';

  /** Per-request timeout for NATS request/reply calls. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120000)
  RPC_TIMEOUT_MS: number = 5000;

  /**
   * JetStream replicas of EVENTS, for the services that create it (tokens, provisioning, ingestion,
   * alerting). Unset: created with 1 when missing, an existing stream left as it is; set: created with
   * this many and an existing stream scaled to it at start-up (3 in a NATS cluster).
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5)
  EVENTS_STREAM_REPLICAS?: number = undefined;

  /** The same for DEAD_LETTER (created by ingestion and alerting). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5)
  DEAD_LETTER_STREAM_REPLICAS?: number = undefined;
}
