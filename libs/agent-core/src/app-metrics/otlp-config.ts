import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from '@app/contracts';
import { AppSampleConfig, MaxBytes } from './app-sample-config';
import { PluginConfigError } from './plugin-config';

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
