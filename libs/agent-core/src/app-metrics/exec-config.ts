import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { AppSampleConfig, MaxBytes } from './app-sample-config';
import { parsePluginList, PluginConfigError } from './plugin-config';

/** Default cap on a command's stdout; past it the command is killed and the run fails. */
export const DEFAULT_EXEC_MAX_BYTES = 1024 * 1024;

/** A command the agent runs at an interval, reading metrics from its stdout. Durations are seconds. */
export class ExecPluginConfig extends AppSampleConfig {
  /** The `plugin` tag of its samples and the name of its health entry (`exec:<name>`). */
  @Matches(/^[A-Za-z0-9_.:/-]{1,80}$/, { message: 'name must be 1-80 letters, digits or _.:/-' })
  name!: string;

  /** argv: the program and its arguments, run without a shell; with `shell: true`, one shell command line. */
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(4096, { each: true })
  command!: string[];

  @IsOptional()
  @IsBoolean()
  shell: boolean = false;

  /** `influx` (line protocol) or `openmetrics` (Prometheus text / OpenMetrics). */
  @IsIn(['influx', 'openmetrics'], { message: 'format must be "influx" or "openmetrics"' })
  format: 'influx' | 'openmetrics' = 'influx';

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

  @MaxBytes(1024, 16 * 1024 * 1024)
  max_bytes: number = DEFAULT_EXEC_MAX_BYTES;
}

/** Validates a parsed JSON list of exec plugins; a shell command line must be one string. */
export function parseExecPlugins(value: unknown, source: string): ExecPluginConfig[] {
  const plugins = parsePluginList(ExecPluginConfig, value, source, (p) => ({ field: 'name', id: p.name }));
  const errors = plugins.flatMap((p, i) =>
    p.shell && p.command.length !== 1
      ? [{ field: `${source}[${i}].command`, reason: 'with shell: true, give one command line' }]
      : [],
  );
  if (errors.length) throw new PluginConfigError(errors);
  return plugins;
}
