import { readFileSync } from 'node:fs';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { CommonConfig } from '@app/config';
import { certificatePin } from '@app/nats-auth';
import { AgentArtifacts, readAgentArtifacts } from '@app/agent-core';

/** Environment variables read by the provisioning service. */
export class ProvisioningConfig extends CommonConfig {
  /** The gateway URL customers' agents reach: install scripts, Helm repository, HTTP intake. */
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http:// or https:// URL' })
  PUBLIC_URL: string = 'http://localhost:3000';

  /** NATS URL(s) as agents see them (often a public address); defaults to NATS_URL. */
  @IsOptional()
  @Matches(/^(nats|tls|ws|wss):\/\/[^\s,]+(,(nats|tls|ws|wss):\/\/[^\s,]+)*$/, {
    message: 'must be one or more nats:// URLs separated by commas',
  })
  AGENT_NATS_URL?: string = undefined;

  /** Container image placed in Docker and Helm commands (`repository:tag`). */
  @IsString()
  @MinLength(1)
  AGENT_IMAGE: string = 'rca/agent:0.1.0';

  /** Enrollment attempts one token may make per minute (token bucket; bursts up to the same number). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  ENROLL_RATE_PER_MINUTE: number = 30;

  /** Enrollments one instance runs at once; more wait in a bounded queue (see ConcurrencyGate). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  ENROLL_CONCURRENCY: number = 16;

  /** Enrollments that may wait for a slot; beyond that they are refused with RATE_LIMITED at once. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000)
  ENROLL_QUEUE_MAX: number = 1000;

  /** Longest wait for a slot; keep it below the agents' request timeout (5 s) so they get an answer. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  ENROLL_QUEUE_WAIT_MS: number = 2500;

  /**
   * Lifetime of a token from `agent/provision` (the wizard's) when the request does not say; 0 = no expiry.
   * A token pasted into a wizard and forgotten should not stay valid for ever.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(24 * 365)
  ENROLLMENT_TOKEN_TTL_HOURS: number = 24;

  /** Heartbeat interval told to agents at enrollment (ingestion's liveness uses the same). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  HEARTBEAT_INTERVAL_SECONDS: number = 10;

  /** Prometheus `/metrics` and `/health` (NATS, database) of this service; 0 disables it. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT: number = 9464;

  /**
   * How often each instance runs the inactive-agent cleanup of the organisations that turned it on
   * (`PUT /api/v1/settings/fleet`). Instances may overlap: every deletion is a compare-and-set.
   */
  @Type(() => Number)
  @IsNumber()
  @Min(0.1)
  @Max(86_400)
  INACTIVE_AGENT_CLEANUP_INTERVAL_SECONDS: number = 3600;

  /**
   * The platform CA (PEM) when agent-facing listeners use it (npm start sets it): its pin goes into
   * every generated command, so agents trust that CA and nothing else.
   */
  @IsOptional()
  @IsString()
  PLATFORM_CA_FILE?: string = undefined;

  /**
   * The agent build (`npm run build:agent`) the gateway serves: the SHA-256 of its files from
   * manifest.json is pinned in every generated install command.
   */
  @IsString()
  AGENT_DIST_DIR: string = 'dist/agent';

  /** NATS URL agents are given: AGENT_NATS_URL, else the service's own NATS_URL. */
  get agentNatsUrl(): string {
    return this.AGENT_NATS_URL ?? this.NATS_URL;
  }

  /** `sha256:<hex>` of PLATFORM_CA_FILE, read when a command is built (a renewed CA needs no restart). */
  get platformCaPin(): string | undefined {
    return this.PLATFORM_CA_FILE ? certificatePin(readFileSync(this.PLATFORM_CA_FILE, 'utf8')) : undefined;
  }

  /** The agent build's files and hashes, read when a command is built (a rebuild needs no restart). */
  get agentArtifacts(): AgentArtifacts | undefined {
    return readAgentArtifacts(this.AGENT_DIST_DIR);
  }
}
