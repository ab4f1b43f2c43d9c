import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { FieldError, flattenValidationErrors } from '@app/contracts';

/** Entries per list (targets, plugins): each can add an entry to the heartbeat's collector errors (at most 100). */
export const MAX_PLUGIN_ENTRIES = 50;

/** A scrape target or exec plugin list that does not validate; the message names each field. */
export class PluginConfigError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.reason}`).join('\n'));
  }
}

/** What scrape targets and exec plugins share: a timeout within the interval (labels: AppSampleConfig). */
interface PluginEntry {
  interval?: number;
  timeout: number;
  labels?: Record<string, string>;
}

/**
 * Validates a parsed JSON list of `cls` entries (defaults applied), each named by `idOf` (unique).
 * Errors name the field as `<source>[i].<field>` (source: the variable or file it came from).
 */
export function parsePluginList<T extends PluginEntry>(
  cls: new () => T,
  value: unknown,
  source: string,
  idOf: (entry: T) => { field: string; id: string },
): T[] {
  if (!Array.isArray(value)) throw new PluginConfigError([{ field: source, reason: 'must be a JSON array' }]);
  if (value.length > MAX_PLUGIN_ENTRIES)
    throw new PluginConfigError([{ field: source, reason: `at most ${MAX_PLUGIN_ENTRIES} entries` }]);
  const errors: FieldError[] = [];
  const ids = new Set<string>();
  const entries = value.map((raw, i) => {
    const field = `${source}[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push({ field, reason: 'must be an object' });
      return undefined;
    }
    const entry = plainToInstance(cls, raw, { exposeDefaultValues: true });
    const found = validateSync(entry, { whitelist: true, forbidNonWhitelisted: true });
    errors.push(...flattenValidationErrors(found, field));
    if (entry.interval !== undefined && entry.timeout > entry.interval)
      errors.push({ field: `${field}.timeout`, reason: 'must not be longer than interval' });
    const { field: idField, id } = idOf(entry);
    if (ids.has(id)) errors.push({ field: `${field}.${idField}`, reason: `"${id}" is already used` });
    ids.add(id);
    return entry;
  });
  if (errors.length) throw new PluginConfigError(errors);
  return entries as T[];
}
