/**
 * Prometheus text format (0.0.4) and OpenMetrics 1.0 text, parsed into flat samples: one per line, names
 * kept as exposed (`http_requests_total`, `latency_seconds_bucket{le="0.1"}`, `latency_seconds_sum`).
 * Strict like Prometheus: one malformed line fails the whole exposition with its line number, so a
 * target answering with an HTML page or a truncated body is an error, not a handful of odd series.
 *
 * Written here because the npm parsers checked (parse-prometheus-text-format 1.1.1 and
 * @platformatic/promotel 0.2.2) lose data: the first merges a labelled histogram's series into one and
 * drops their _sum/_count, the second silently skips `+Inf` values and any line it cannot match.
 */

export interface ExposedSample {
  name: string;
  labels: Record<string, string>;
  /** May be NaN or ±Infinity, as exposed; the caller decides what it can store. */
  value: number;
}

export class ExpositionParseError extends Error {}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Calls `onSample` for every sample line; throws ExpositionParseError on the first malformed line. */
export function parseExposition(text: string, onSample: (sample: ExposedSample) => void): void {
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const line = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (line === '# EOF') return; // OpenMetrics: nothing after it counts
      continue; // HELP, TYPE, UNIT and plain comments carry nothing we store
    }
    let sample: ExposedSample;
    try {
      sample = parseSampleLine(line);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ExpositionParseError(`line ${lineNo}: ${reason}: ${JSON.stringify(line.slice(0, 80))}`);
    }
    // Outside the try: what the caller throws (a series limit) is its own error, not a parse error.
    onSample(sample);
  }
}

function parseSampleLine(line: string): ExposedSample {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
  const name = line.slice(0, i);
  if (!METRIC_NAME.test(name)) throw new Error('invalid metric name');
  const labels: Record<string, string> = {};
  if (line[i] === '{') i = parseLabels(line, i + 1, labels);
  // Value, then an optional timestamp and an optional OpenMetrics exemplar (`# {…} value [ts]`).
  const rest = line
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  if (rest[0] === '') throw new Error('missing value');
  const value = parseValue(rest[0]);
  if (rest.length > 1 && rest[1] !== '#' && !NUMBER.test(rest[1])) throw new Error('invalid timestamp');
  if (rest.length > 2 && rest[1] !== '#' && rest[2] !== '#')
    throw new Error('unexpected text after the value');
  return { name, labels, value };
}

/** From just after `{` to just after `}`; returns that index. */
function parseLabels(line: string, from: number, labels: Record<string, string>): number {
  let i = from;
  const skipSpace = () => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  for (;;) {
    skipSpace();
    if (line[i] === '}') return i + 1;
    const nameStart = i;
    while (i < line.length && /[a-zA-Z0-9_]/.test(line[i])) i++;
    const labelName = line.slice(nameStart, i);
    if (!LABEL_NAME.test(labelName)) throw new Error('invalid label name');
    skipSpace();
    if (line[i++] !== '=') throw new Error(`expected = after label ${labelName}`);
    skipSpace();
    if (line[i++] !== '"') throw new Error(`expected a quoted value for label ${labelName}`);
    let value = '';
    for (;;) {
      if (i >= line.length) throw new Error(`unterminated value of label ${labelName}`);
      const c = line[i++];
      if (c === '"') break;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const escaped = line[i++];
      value += escaped === 'n' ? '\n' : escaped === '\\' || escaped === '"' ? escaped : `\\${escaped}`;
    }
    if (labelName in labels) throw new Error(`label ${labelName} given twice`);
    labels[labelName] = value;
    skipSpace();
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error('expected , or } after a label');
  }
}

function parseValue(text: string): number {
  if (NUMBER.test(text)) return Number(text);
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  throw new Error('invalid value');
}
