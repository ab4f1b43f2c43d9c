import {
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { MAX_SAMPLES_PER_COLLECTION } from '../collectors/run-collectors';

/**
 * Default cap on the series one source (a scrape, a command's run, an OTLP interval) may yield: a
 * 10,000-series target is kept whole, sent as several batches (the publisher splits a collection).
 */
export const DEFAULT_APP_MAX_SERIES = 10_000;

const LABEL_KEY = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;

/** `labels`: label names mapped to string values of at most 200 characters. */
function IsLabelMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isLabelMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          Object.entries(value).every(
            ([k, v]) => LABEL_KEY.test(k) && typeof v === 'string' && v.length <= 200,
          ),
        defaultMessage: () => 'labels must map label names to strings of at most 200 characters',
      },
    },
    options,
  );
}

/** `max_bytes` between `min` and `max`: each source reads a different kind of input, so each has its own bound. */
export function MaxBytes(min: number, max: number): PropertyDecorator {
  return (target, key) => {
    for (const decorate of [IsOptional(), IsInt(), Min(min), Max(max)]) decorate(target, key);
  };
}

/**
 * What every application-metric source shares: which names it keeps (`allow`, `deny`), the tags added to
 * its samples (`labels`) and how many series it may yield (`max_series`). Scrape targets, exec plugins and
 * the OTLP intake extend it, adding their own `max_bytes` with MaxBytes.
 */
export abstract class AppSampleConfig {
  /** Glob patterns (`*` = any characters): only metric names matching one are kept. */
  @IsOptional()
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  allow?: string[];

  /** Glob patterns: metric names matching one are dropped (after `allow`). */
  @IsOptional()
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  deny?: string[];

  /** Tags added to every sample of this source. */
  @IsOptional()
  @IsObject()
  @IsLabelMap()
  labels?: Record<string, string>;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SAMPLES_PER_COLLECTION)
  max_series: number = DEFAULT_APP_MAX_SERIES;
}
