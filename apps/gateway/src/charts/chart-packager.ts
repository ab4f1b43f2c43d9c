import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { create } from 'tar';

export interface PackagedChart {
  name: string;
  version: string;
  appVersion: string;
  description: string;
  fileName: string;
  archive: Buffer;
  /** sha256 hex of the archive, as Helm's index.yaml records it. */
  digest: string;
}

/** Reads `key: value` from Chart.yaml's top level (the few scalar fields the index needs). */
function chartField(chartYaml: string, key: string): string | undefined {
  const match = new RegExp(`^${key}:[ \\t]*(.+?)[ \\t]*$`, 'm').exec(chartYaml);
  return match?.[1].replace(/^(["'])(.*)\1$/, '$2');
}

/**
 * `helm package` without Helm: a gzipped tar whose single top folder is the chart's name, which
 * is all Helm expects of a chart archive.
 */
export async function packageChart(chartDir: string): Promise<PackagedChart> {
  const chartYaml = readFileSync(`${chartDir}/Chart.yaml`, 'utf8');
  const name = chartField(chartYaml, 'name');
  const version = chartField(chartYaml, 'version');
  if (!name || !version) throw new Error(`${chartDir}/Chart.yaml has no name or version`);
  if (basename(chartDir) !== name) throw new Error(`chart folder must be named ${name}`);
  const chunks: Buffer[] = [];
  const stream = create({ gzip: true, cwd: dirname(chartDir), portable: true }, [name]);
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  const archive = Buffer.concat(chunks);
  return {
    name,
    version,
    appVersion: chartField(chartYaml, 'appVersion') ?? version,
    description: chartField(chartYaml, 'description') ?? '',
    fileName: `${name}-${version}.tgz`,
    archive,
    digest: createHash('sha256').update(archive).digest('hex'),
  };
}

/**
 * A Helm repository index for one chart. URLs are relative, so Helm resolves them against
 * whatever URL the customer used for `--repo` (no PUBLIC_URL needed). Strings are written as
 * JSON strings, which YAML reads as the same strings.
 */
export function helmIndex(chart: PackagedChart, generatedAt: Date): string {
  const q = (value: string) => JSON.stringify(value);
  return [
    'apiVersion: v1',
    'entries:',
    `  ${q(chart.name)}:`,
    '    - apiVersion: v2',
    `      name: ${q(chart.name)}`,
    `      version: ${q(chart.version)}`,
    `      appVersion: ${q(chart.appVersion)}`,
    `      description: ${q(chart.description)}`,
    '      type: application',
    `      created: ${q(generatedAt.toISOString())}`,
    `      digest: ${q(chart.digest)}`,
    '      urls:',
    `        - ${q(chart.fileName)}`,
    `generated: ${q(generatedAt.toISOString())}`,
    '',
  ].join('\n');
}
