import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One file of the agent build (`npm run build:agent`), as dist/agent/manifest.json lists it. */
export interface AgentArtifact {
  file: string;
  size: number;
  /** Hex SHA-256 of the file: pinned in the generated install commands. */
  sha256: string;
}

/** What `npm run build:agent` wrote: the Node bundle every platform can run, and per-platform binaries. */
export interface AgentArtifacts {
  version: string;
  /** rca-agent-bundle.tgz: main.js plus its lazily loaded chunks; runs on Node 20+. */
  bundle: AgentArtifact;
  /** Self-contained executables by `<os>-<arch>` (only `linux-x64` today). */
  binaries: Partial<Record<'linux-x64', AgentArtifact>>;
  /** rca-agent-lambda-layer.zip: the Lambda extension layer (launcher + bundle); absent in older builds. */
  lambdaLayer?: AgentArtifact;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The agent build's manifest under `dir`, or undefined when there is no build there. Throws on a corrupt one. */
export function readAgentArtifacts(dir: string): AgentArtifacts | undefined {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as AgentArtifacts;
  const all = [
    manifest.bundle,
    ...Object.values(manifest.binaries ?? {}),
    ...(manifest.lambdaLayer ? [manifest.lambdaLayer] : []),
  ];
  for (const artifact of all) {
    if (!artifact || !SHA256.test(artifact.sha256) || !/^[\w.-]+$/.test(artifact.file))
      throw new Error(`${file} is not an agent build manifest (run npm run build:agent)`);
  }
  return {
    version: manifest.version,
    bundle: manifest.bundle,
    binaries: manifest.binaries ?? {},
    ...(manifest.lambdaLayer ? { lambdaLayer: manifest.lambdaLayer } : {}),
  };
}
