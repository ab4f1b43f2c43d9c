import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, validateSync } from 'class-validator';
import { flattenValidationErrors } from '@app/contracts';
import { AppSampleConfig, MaxBytes } from './app-sample-config';
import { PluginConfigError } from './plugin-config';
import { parseListenAddress } from './statsd-collector';

/** Default cap on one request body (after gzip is undone); a larger one is answered 413. */
export const DEFAULT_OTLP_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The OTLP/HTTP intake's settings besides its address: allow/deny, labels and `max_series` (series kept
 * per collection interval; points of new series past it are refused) as for the other sources.
 */
export class OtlpIntakeConfig extends AppSampleConfig {
  @MaxBytes(1024, 64 * 1024 * 1024)
  max_bytes: number = DEFAULT_OTLP_MAX_BYTES;
}

/** Validates a parsed JSON object of settings (or nothing: the defaults); errors name `<source>.<field>`. */
export function parseOtlpSettings(value: unknown, source: string): OtlpIntakeConfig {
  if (value === undefined) return plainToInstance(OtlpIntakeConfig, {}, { exposeDefaultValues: true });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PluginConfigError([{ field: source, reason: 'must be a JSON object' }]);
  const config = plainToInstance(OtlpIntakeConfig, value, { exposeDefaultValues: true });
  const errors = flattenValidationErrors(
    validateSync(config, { whitelist: true, forbidNonWhitelisted: true }),
    source,
  );
  if (errors.length) throw new PluginConfigError(errors);
  return config;
}

/** Where the OTLP intake listens and with which settings; null: off. */
export interface OtlpListener {
  host: string;
  port: number;
  config: OtlpIntakeConfig;
}

/**
 * The `otlp` section of remote configuration: the intake's settings plus where it listens;
 * `enabled: false` turns off the agent's own RCA_OTLP_ADDRESS.
 */
export class OtlpSectionConfig extends OtlpIntakeConfig {
  @IsOptional()
  @IsBoolean()
  enabled: boolean = true;

  /** `4318` (127.0.0.1:4318, the default), `0.0.0.0:4318`, `[::1]:4318`. */
  @IsOptional()
  @IsString()
  address: string = '4318';
}

/** Validates an `otlp` section; errors name `<source>.<field>`. */
export function parseOtlpSection(value: unknown, source: string): OtlpListener | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PluginConfigError([{ field: source, reason: 'must be an object' }]);
  const section = plainToInstance(OtlpSectionConfig, value, { exposeDefaultValues: true });
  const errors = flattenValidationErrors(
    validateSync(section, { whitelist: true, forbidNonWhitelisted: true }),
    source,
  );
  const address = typeof section.address === 'string' ? parseListenAddress(section.address) : undefined;
  if (!errors.length && !address)
    errors.push({
      field: `${source}.address`,
      reason: 'must be a port or host:port (e.g. 4318 or 0.0.0.0:4318)',
    });
  if (errors.length) throw new PluginConfigError(errors);
  if (!section.enabled) return null;
  const { enabled: _enabled, address: _address, ...settings } = section;
  return {
    host: address!.host,
    port: address!.port,
    config: plainToInstance(OtlpIntakeConfig, settings, { exposeDefaultValues: true }),
  };
}
