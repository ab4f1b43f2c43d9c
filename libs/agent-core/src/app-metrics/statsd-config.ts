import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { FieldError, flattenValidationErrors } from '@app/contracts';
import { PluginConfigError } from './plugin-config';
import { DEFAULT_STATSD_MAX_SERIES, parseStatsdAddress } from './statsd-collector';
import { validateSync } from 'class-validator';

/** The `statsd` section of remote configuration; `enabled: false` turns off the agent's own RCA_STATSD_ADDRESS. */
export class StatsdSectionConfig {
  @IsOptional()
  @IsBoolean()
  enabled: boolean = true;

  /** `8125` (127.0.0.1:8125, the default), `0.0.0.0:8125`, `[::1]:8125`. */
  @IsOptional()
  @IsString()
  address: string = '8125';

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  max_series: number = DEFAULT_STATSD_MAX_SERIES;
}

/** Where the agent listens for StatsD; null: off. */
export interface StatsdListener {
  host: string;
  port: number;
  maxSeries: number;
}

/** Validates a `statsd` section; errors name `<source>.<field>`. */
export function parseStatsdSection(value: unknown, source: string): StatsdListener | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PluginConfigError([{ field: source, reason: 'must be an object' }]);
  const section = plainToInstance(StatsdSectionConfig, value, { exposeDefaultValues: true });
  const errors: FieldError[] = flattenValidationErrors(
    validateSync(section, { whitelist: true, forbidNonWhitelisted: true }),
    source,
  );
  const address = typeof section.address === 'string' ? parseStatsdAddress(section.address) : undefined;
  if (!errors.length && !address)
    errors.push({
      field: `${source}.address`,
      reason: 'must be a port or host:port (e.g. 8125 or 0.0.0.0:8125)',
    });
  if (errors.length) throw new PluginConfigError(errors);
  return section.enabled ? { host: address!.host, port: address!.port, maxSeries: section.max_series } : null;
}
