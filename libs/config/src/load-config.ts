import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from '@app/contracts';

/** A bad configuration value; the message names every offending variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; reason: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.reason}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the environment once into a typed, validated config object. Property names are the
 * variable names; defaults are the class's initialisers; `@Type(() => Number)` converts.
 * Empty strings count as unset, so `FOO=` falls back to the default.
 */
export function loadConfig<T extends object>(
  cls: ClassConstructor<T>,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const defaults = new cls() as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) raw[key] = defaults[key];
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '' && key in defaults) raw[key] = value;
  }
  const instance = plainToInstance(cls, raw, { exposeDefaultValues: true });
  const errors = validateSync(instance, { forbidUnknownValues: false });
  if (errors.length) {
    throw new ConfigError(
      flattenValidationErrors(errors).map((e) => ({ variable: e.field, reason: e.reason })),
    );
  }
  return instance;
}

/**
 * sysexits' EX_CONFIG: a service with an invalid configuration exits with this, so a supervisor
 * (`npm start`, systemd's RestartPreventExitStatus) knows restarting it cannot help.
 */
export const CONFIG_ERROR_EXIT_CODE = 78;

/**
 * For `main.ts`, around start-up: a ConfigError found only once the service meets its dependencies
 * (a setting the NATS server cannot honour) is printed plainly with exit code 78; anything else is rethrown.
 */
export function exitOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(CONFIG_ERROR_EXIT_CODE);
}

/** For `main.ts`: print a config error plainly and exit 78 instead of a stack trace. */
export function loadConfigOrExit<T extends object>(
  cls: ClassConstructor<T>,
  env: NodeJS.ProcessEnv = process.env,
): T {
  try {
    return loadConfig(cls, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(CONFIG_ERROR_EXIT_CODE);
    }
    throw error;
  }
}
