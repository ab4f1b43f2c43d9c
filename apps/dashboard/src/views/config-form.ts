import type { ConfigField } from '../api/types';

export type FormValues = Record<string, string | boolean>;

/** Form values start at each field's default, as text for inputs and as a flag for checkboxes. */
export function initialValues(fields: ConfigField[]): FormValues {
  return Object.fromEntries(fields.map((f) => [f.name, initialValue(f)]));
}

function initialValue(field: ConfigField): string | boolean {
  if (field.type === 'boolean') return field.default === true;
  if (field.default !== undefined) return String(field.default);
  // A required choice without a default shows its first option selected: the value must match.
  if (field.type === 'enum' && field.required && field.enum?.length) return field.enum[0];
  return '';
}

/**
 * The same rules the server applies, checked before sending so mistakes show at the field.
 * The server stays the authority: its 400 `errors` are shown too.
 */
export function validateConfig(fields: ConfigField[], values: FormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.type === 'boolean') continue;
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') {
      if (field.required) errors[field.name] = `${field.name} is required`;
      continue;
    }
    if (field.type === 'integer') {
      if (!/^-?\d+$/.test(text)) {
        errors[field.name] = `${field.name} must be a whole number`;
        continue;
      }
      const n = Number(text);
      if (field.minimum !== undefined && n < field.minimum)
        errors[field.name] = `${field.name} must be at least ${field.minimum}`;
      else if (field.maximum !== undefined && n > field.maximum)
        errors[field.name] = `${field.name} must be at most ${field.maximum}`;
      continue;
    }
    if (field.type === 'enum' && field.enum && !field.enum.includes(text)) {
      errors[field.name] = `${field.name} must be one of ${field.enum.join(', ')}`;
      continue;
    }
    if (field.pattern) {
      let pattern: RegExp | null = null;
      try {
        pattern = new RegExp(field.pattern);
      } catch {
        pattern = null; // a pattern the browser cannot compile is left to the server
      }
      // The server's words, never the raw regex: a person cannot be expected to read one.
      if (pattern && !pattern.test(text))
        errors[field.name] = field.pattern_description
          ? `${field.name} must be ${field.pattern_description}`
          : `${field.name} is not valid`;
    }
  }
  return errors;
}

/** The `config` object to send: typed values, empty optional fields left out so server defaults apply. */
export function toConfig(
  fields: ConfigField[],
  values: FormValues,
): Record<string, string | number | boolean> {
  const config: Record<string, string | number | boolean> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.type === 'boolean') {
      config[field.name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') continue;
    config[field.name] = field.type === 'integer' ? Number(text) : text;
  }
  return config;
}

/** Server field paths (`config.namespace`, `environment_name`) → the form's field names. */
export function fieldOf(path: string): string {
  const parts = path.split('.');
  return parts[parts.length - 1];
}
