import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';

/** Where the built agent lives inside the dist folder, and the bin npm links. */
export const AGENT_MAIN = join('apps', 'agent', 'src', 'main.js');

export interface AgentPackageSource {
  /** The build output (`npm run build`): holds apps/agent and libs. */
  distDir: string;
  /** The repository's package.json: version and runtime dependencies of the package. */
  packageJson: string;
}

interface RootPackage {
  version: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** True when the build output holds an agent to package. */
export function agentBuildExists(source: AgentPackageSource): boolean {
  return existsSync(join(source.distDir, AGENT_MAIN)) && existsSync(source.packageJson);
}

/**
 * An npm package of the built agent (`npm install -g <url>/downloads/rca-agent.tgz`), made from
 * the gateway's own build: the compiled agent and libs plus a package.json whose `bin` is the
 * agent and whose dependencies are the platform's runtime dependencies (npm fetches them).
 */
export async function packAgent(source: AgentPackageSource): Promise<Buffer> {
  const root = JSON.parse(readFileSync(source.packageJson, 'utf8')) as RootPackage;
  const stage = mkdtempSync(join(tmpdir(), 'rca-agent-pack-'));
  try {
    const packageDir = join(stage, 'package');
    const notMap = (path: string) => !path.endsWith('.map');
    cpSync(join(source.distDir, 'apps', 'agent'), join(packageDir, 'dist', 'apps', 'agent'), {
      recursive: true,
      filter: notMap,
    });
    cpSync(join(source.distDir, 'libs'), join(packageDir, 'dist', 'libs'), {
      recursive: true,
      filter: notMap,
    });
    const manifest = {
      name: 'rca-agent',
      version: root.version,
      description: 'Agent Connector agent: heartbeats and metrics over NATS',
      license: root.license ?? 'UNLICENSED',
      bin: { 'rca-agent': `dist/${AGENT_MAIN.split('\\').join('/')}` },
      engines: root.engines ?? { node: '>=20' },
      dependencies: root.dependencies ?? {},
    };
    writeFileSync(join(packageDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of create({ gzip: true, cwd: stage, portable: true }, ['package'])) {
      chunks.push(Buffer.from(chunk as Buffer));
    }
    return Buffer.concat(chunks);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
