import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { CommonConfig } from '@app/config';

/** Environment variables read by the gateway. */
export class GatewayConfig extends CommonConfig {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  HOST: string = '0.0.0.0';

  /** The URL customers' agents and browsers use to reach this gateway (goes into generated commands). */
  @IsOptional()
  @IsString()
  PUBLIC_URL?: string = undefined;

  /** Where the Helm chart (helm/rca-agent) and install scripts (install/) are read from at start-up. */
  @IsString()
  DEPLOY_DIR: string = 'deploy';

  /** The agent build (`npm run build:agent`) served under /downloads: manifest.json, bundle, binaries. */
  @IsString()
  AGENT_DIST_DIR: string = 'dist/agent';

  /** PEM of the platform CA, served at /api/v1/intake/ca.pem for agents that pin it (npm start sets it). */
  @IsOptional()
  @IsString()
  PLATFORM_CA_FILE?: string = undefined;

  /**
   * HTTPS for agents: certificate and key files (PEM). With both set the gateway also serves HTTPS on
   * HTTPS_PORT (npm start uses the platform CA's listener certificate).
   */
  @IsOptional()
  @IsString()
  TLS_CERT_FILE?: string = undefined;

  @IsOptional()
  @IsString()
  TLS_KEY_FILE?: string = undefined;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTPS_PORT: number = 3443;

  /** API requests per minute from one client address (all keys, and none); 429 with Retry-After beyond. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: number = 1200;

  /** API requests per minute with one API key, from anywhere. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_KEY_PER_MINUTE: number = 600;

  /** Failed authentications per minute from one address before it waits a minute (no key is looked up meanwhile). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  RATE_LIMIT_FAILED_AUTH_PER_MINUTE: number = 20;

  /** Largest JSON body of an API request, in KiB (the agents' intake has its own 8 MiB); larger: 413. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(8192)
  API_BODY_LIMIT_KB: number = 256;
}
