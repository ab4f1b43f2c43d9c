/** `occurredAt` → `occurred_at`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** Objects whose keys are data (label names, metric tags, reject reasons), not field names. */
const DATA_KEYED = new Set(['labels', 'tags', 'config', 'rejectedByReason']);

/**
 * The HTTP API speaks snake_case; events are camelCase on NATS. Keys of plain objects are
 * converted at every depth except inside the DATA_KEYED objects.
 */
export function toSnakeCaseKeys(value: unknown, parentKey?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => toSnakeCaseKeys(item));
  if (typeof value !== 'object' || value === null) return value;
  const keepKeys = parentKey !== undefined && DATA_KEYED.has(parentKey);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[keepKeys ? key : snakeCase(key)] = keepKeys ? inner : toSnakeCaseKeys(inner, key);
  }
  return out;
}

type SnakeKey<K extends string> = K extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeKey<Tail>}`
  : K;

/**
 * The type of `toSnakeCaseKeys(value)` for a `T`: the response classes of the OpenAPI document
 * `implements SnakeCased<Wire>`, so a field added to the wire and missing from the document (or typed
 * differently) does not compile. Data-keyed records (`Record<string, …>`) keep their keys, as at run time.
 */
export type SnakeCased<T> = T extends readonly (infer Item)[]
  ? SnakeCased<Item>[]
  : T extends object
    ? { [K in keyof T as K extends string ? (string extends K ? K : SnakeKey<K>) : K]: SnakeCased<T[K]> }
    : T;
