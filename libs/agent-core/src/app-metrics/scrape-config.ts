import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { AppSampleConfig, DEFAULT_APP_MAX_SERIES, MaxBytes } from './app-sample-config';
import { parsePluginList, PluginConfigError } from './plugin-config';

/** Default cap on series kept from one scrape; a target past it fails that scrape (Prometheus' sample_limit). */
export const DEFAULT_SCRAPE_MAX_SERIES = DEFAULT_APP_MAX_SERIES;
/** Default cap on one response body; reading stops there and the scrape fails. */
export const DEFAULT_SCRAPE_MAX_BYTES = 4 * 1024 * 1024;

export class ScrapeTlsConfig {
  /** PEM file of the CA that signed the target's certificate. */
  @IsOptional()
  @IsString()
  ca_file?: string;

  /** Accept any certificate. Off by default; for a target with a self-signed certificate and no CA file. */
  @IsOptional()
  @IsBoolean()
  insecure_skip_verify?: boolean;
}

/** One Prometheus/OpenMetrics endpoint the agent scrapes. Durations are seconds. */
export class ScrapeTargetConfig extends AppSampleConfig {
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'url must be an http:// or https:// URL' })
  url!: string;

  /** The `target` tag of its samples and the name of its health entry; default: the URL. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:/-]{1,80}$/, { message: 'job must be 1-80 letters, digits or _.:/-' })
  job?: string;

  /** Seconds between scrapes; default: the agent's collection interval. */
  @IsOptional()
  @IsInt({ message: 'interval must be a whole number of seconds' })
  @Min(1)
  @Max(3600)
  interval?: number;

  @IsOptional()
  @IsNumber({}, { message: 'timeout must be a number of seconds' })
  @Min(0.1)
  @Max(60)
  timeout: number = 5;

  /** File holding a bearer token, read at every scrape so a rotated token is picked up. */
  @IsOptional()
  @IsString()
  bearer_token_file?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => ScrapeTlsConfig)
  tls?: ScrapeTlsConfig;

  @MaxBytes(1024, 64 * 1024 * 1024)
  max_bytes: number = DEFAULT_SCRAPE_MAX_BYTES;
}

/** Validates a parsed JSON list of targets; defaults applied. */
export function parseScrapeTargets(value: unknown, source: string): ScrapeTargetConfig[] {
  const targets = parsePluginList(ScrapeTargetConfig, value, source, (t) => ({
    field: 'job',
    id: t.job ?? t.url,
  }));
  // The job names the target's entry in the heartbeat's collector errors, at most 100 characters there.
  const unnamed = targets.flatMap((t, i) =>
    !t.job && t.url.length > 80
      ? [{ field: `${source}[${i}].job`, reason: 'required when url is longer than 80 characters' }]
      : [],
  );
  if (unnamed.length) throw new PluginConfigError(unnamed);
  return targets;
}
