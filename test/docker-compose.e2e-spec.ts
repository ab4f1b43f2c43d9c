import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { requireTool } from '@app/testing';
import { REPO_ROOT } from './support/launcher';

/**
 * No container engine runs in CI, so the compose file is validated instead of started: the
 * real `docker-compose config` (Debian's docker-compose 1.29, or the `docker compose` plugin)
 * must accept it, and its resolved output must hold what the README promises.
 */

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  volumes?: (string | { source: string; target: string })[];
  profiles?: string[];
  ports?: unknown[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const PLATFORM_SERVICES = ['tokens', 'provisioning', 'ingestion', 'alerting', 'gateway'];

/** `docker-compose …` when installed, else `docker compose …` (requireTool checked that one is). */
function compose(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const fullEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
  for (const [command, prefix] of [
    ['docker-compose', []],
    ['docker', ['compose']],
  ] as const) {
    const result = spawnSync(command, [...prefix, '-f', COMPOSE_FILE, ...args], {
      cwd: REPO_ROOT,
      env: fullEnv,
      encoding: 'utf8',
    });
    if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') continue;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  throw new Error(
    'neither docker-compose nor the docker compose plugin is installed (CI installs docker-compose via apt)',
  );
}

function volumeSources(service: ComposeService): string[] {
  return (service.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source));
}

requireTool('docker-compose').describe('docker-compose.yml', () => {
  let resolved: ComposeFile;

  beforeAll(() => {
    const result = compose(['config']);
    if (result.status !== 0) throw new Error(`docker-compose config failed:\n${result.stderr}`);
    resolved = parse(result.stdout) as ComposeFile;
  });

  it('is accepted by docker-compose config', () => {
    const result = compose(['config', '-q']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs the platform services from one image, each with its own command, health check and restart policy', () => {
    const images = new Set(PLATFORM_SERVICES.map((name) => resolved.services[name]?.image));
    expect(images.size).toBe(1);
    for (const name of PLATFORM_SERVICES) {
      const service = resolved.services[name];
      expect(service.build?.dockerfile).toBe('deploy/docker/service.Dockerfile');
      expect(service.command).toEqual(['node', `dist/apps/${name}/src/main.js`]);
      expect(service.healthcheck?.test[0]).toBe('CMD');
      expect(service.restart).toBe('unless-stopped');
      // Each service is its own NATS user over TLS with the platform CA (docs/protocol.md).
      expect(service.environment?.NATS_URL).toBe('tls://nats:4222');
      expect(service.environment?.NATS_CREDS).toBe(`/nats-auth/creds/${name}.creds`);
      expect(service.environment?.NATS_CA_FILE).toBe('/nats-auth/tls/ca.pem');
      const mounts = (service.volumes ?? []).map((v) =>
        typeof v === 'string'
          ? v
          : `${v.source}:${v.target}${(v as { read_only?: boolean }).read_only ? ':ro' : ''}`,
      );
      expect(mounts).toEqual(['nats-auth:/nats-auth:ro']);
      expect(service.environment?.DATABASE_URL).toMatch(/^postgres:\/\/rca:[^@]+@postgres:5432\/rca$/);
      expect(service.depends_on).toEqual({
        nats: { condition: 'service_healthy' },
        postgres: { condition: 'service_healthy' },
      });
    }
  });

  it('secures NATS with the keys a one-shot service generates before it starts (operator mode, TLS)', () => {
    const keys = resolved.services['nats-keys'];
    expect(keys.command?.slice(0, 4)).toEqual([
      'node',
      'dist/apps/gateway/src/admin.js',
      'nats-auth',
      'init',
    ]);
    expect(resolved.services.nats.depends_on).toEqual({
      'nats-keys': { condition: 'service_completed_successfully' },
    });
    expect(volumeSources(resolved.services.nats)).toContain('nats-auth');
    const conf = readFileSync(join(REPO_ROOT, 'deploy', 'nats', 'nats-server.conf'), 'utf8');
    expect(conf).toMatch(/^include auth\/auth\.conf$/m);
    expect(resolved.services.tokens.environment?.NATS_AUTH_DIR).toBe('/nats-auth');
    // Agents get the platform over HTTPS, and the CA pin in their commands.
    expect(resolved.services.provisioning.environment).toMatchObject({
      PUBLIC_URL: 'https://localhost:3443',
      AGENT_NATS_URL: 'tls://localhost:4222',
      PLATFORM_CA_FILE: '/nats-auth/tls/ca.pem',
    });
  });

  it('runs NATS 2.10+ with JetStream on a volume and fsync before every ack', () => {
    const nats = resolved.services.nats;
    expect(nats.image).toMatch(/^nats:2\.(1\d|[2-9]\d)/);
    expect(volumeSources(nats)).toContain('nats-data');
    expect(nats.healthcheck?.test.join(' ')).toContain('/healthz?js-enabled-only=true');
    const conf = readFileSync(join(REPO_ROOT, 'deploy', 'nats', 'nats-server.conf'), 'utf8');
    const jetstream = /jetstream\s*\{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(jetstream).toMatch(/^\s*store_dir:\s*\/data\/jetstream\s*$/m);
    expect(jetstream).toMatch(/^\s*sync_interval:\s*always\s*$/m);
  });

  it('keeps PostgreSQL 16 data on a named volume', () => {
    const postgres = resolved.services.postgres;
    expect(postgres.image).toMatch(/^postgres:16(\b|-)/);
    expect(postgres.healthcheck?.test).toEqual(['CMD', 'pg_isready', '-U', 'rca', '-d', 'rca']);
    expect(volumeSources(postgres)).toContain('postgres-data');
    expect(Object.keys(resolved.volumes)).toEqual(
      expect.arrayContaining(['nats-auth', 'nats-data', 'postgres-data', 'agent-state']),
    );
  });

  it('has a demo agent behind a profile that takes its enrollment token from RCA_TOKEN', () => {
    const result = compose(['config'], { RCA_TOKEN: 'rca_et_fromtheshell' });
    const agent = (parse(result.stdout) as ComposeFile).services.agent;
    expect(agent.profiles).toEqual(['agent']);
    expect(agent.build?.dockerfile).toBe('deploy/docker/agent.Dockerfile');
    expect(agent.environment).toMatchObject({
      RCA_TOKEN: 'rca_et_fromtheshell',
      RCA_NATS_URL: 'tls://nats:4222',
      RCA_PLATFORM_URL: 'https://gateway:3443',
      RCA_CA_FILE: '/nats-auth/tls/ca.pem',
      RCA_STATE_DIR: '/var/lib/rca-agent',
    });
    expect(volumeSources(agent)).toContain('agent-state');
  });

  it('points at Dockerfiles that exist in the repository', () => {
    const dockerfiles = new Set(
      Object.values(resolved.services)
        .map((s) => s.build?.dockerfile)
        .filter((d): d is string => Boolean(d)),
    );
    expect([...dockerfiles].sort()).toEqual([
      'deploy/docker/agent.Dockerfile',
      'deploy/docker/service.Dockerfile',
    ]);
    for (const dockerfile of dockerfiles) expect(existsSync(join(REPO_ROOT, dockerfile))).toBe(true);
  });
});
