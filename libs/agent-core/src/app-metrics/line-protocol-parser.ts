import { ExposedSample } from './exposition-parser';

/**
 * InfluxDB line protocol (`weather,city=Oslo temp=3.5,humidity=81i 1700000000000000000`) as flat samples:
 * one per numeric field, named `<measurement>_<field>` (just `<measurement>` for a field named `value`),
 * as Telegraf's Prometheus output names them; the line's tags become labels. Floats, integers (`1i`,
 * `1u`) and booleans (1/0) are kept; string fields are not numbers and are left out. Timestamps are
 * ignored (the collection time is used). A malformed line fails the whole output, naming the line.
 */
export class LineProtocolParseError extends Error {}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseLineProtocol(text: string, onSample: (sample: ExposedSample) => void): void {
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    let samples: ExposedSample[];
    try {
      samples = parseLine(line);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new LineProtocolParseError(`line ${n + 1}: ${reason}: ${JSON.stringify(line.slice(0, 80))}`);
    }
    for (const sample of samples) onSample(sample);
  }
}

/** Splits on `separator` outside double quotes and not escaped by a backslash; escapes are kept. */
function splitUnescaped(text: string, separator: string, quotes: boolean): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (quotes && c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (quoted) throw new Error('unterminated string');
  parts.push(current);
  return parts;
}

const unescape = (text: string) => text.replace(/\\([,= "\\])/g, '$1');

function parseLine(line: string): ExposedSample[] {
  const sections = splitUnescaped(line.trim(), ' ', true).filter((s) => s !== '');
  if (sections.length < 2 || sections.length > 3)
    throw new Error('expected measurement, fields and an optional timestamp');
  if (sections[2] !== undefined && !/^-?\d+$/.test(sections[2])) throw new Error('invalid timestamp');
  const [series, ...tagPairs] = splitUnescaped(sections[0], ',', false);
  const measurement = unescape(series);
  if (!measurement) throw new Error('missing measurement');
  const labels: Record<string, string> = {};
  for (const pair of tagPairs) {
    const [key, value, extra] = splitUnescaped(pair, '=', false);
    if (!key || value === undefined || value === '' || extra !== undefined) throw new Error('invalid tag');
    labels[unescape(key)] = unescape(value);
  }
  const samples: ExposedSample[] = [];
  for (const field of splitUnescaped(sections[1], ',', true)) {
    const at = field.search(/(?<!\\)=/);
    if (at <= 0) throw new Error('invalid field');
    const key = unescape(field.slice(0, at));
    const raw = field.slice(at + 1);
    const value = fieldValue(raw);
    if (value === undefined) continue; // a string field
    samples.push({ name: key === 'value' ? measurement : `${measurement}_${key}`, labels, value });
  }
  return samples;
}

function fieldValue(raw: string): number | undefined {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) throw new Error('invalid string field');
    return undefined;
  }
  if (/^[+-]?\d+[iu]$/.test(raw)) return Number(raw.slice(0, -1));
  if (NUMBER.test(raw)) return Number(raw);
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return 1;
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return 0;
  throw new Error(`invalid field value ${raw}`);
}
