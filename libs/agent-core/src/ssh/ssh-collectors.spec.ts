import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool, TestSshServer } from '@app/testing';
import { agentTypes } from '../builtin-agent-types';
import { CollectorRunner } from '../collectors/run-collectors';

const sshd = requireTool('sshd');

/** The ssh type's collectors against a real OpenSSH server started on a loopback port. */
sshd.describe('ssh collectors against a real OpenSSH server', () => {
  let server: TestSshServer;
  let dir: string;
  let knownHosts: string;

  const collectors = (config: Record<string, unknown>) =>
    agentTypes.createCollectors('ssh', {
      private_key_path: server.userKeyFile,
      known_hosts_path: knownHosts,
      ...config,
    });
  /** An ed25519 key that is not the server's. */
  const otherKey = () => {
    const file = join(dir, `other-${Math.random().toString(36).slice(2)}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    return execFileSync('cat', [`${file}.pub`], { encoding: 'utf8' })
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
  };
  const fingerprintOfServer = () =>
    execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${server.hostKeyFile}.pub`], {
      encoding: 'utf8',
    }).split(' ')[1];

  beforeAll(async () => {
    server = await TestSshServer.start();
    dir = mkdtempSync(join(tmpdir(), 'rca-ssh-client-'));
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, server.knownHostsLine());
  }, 30_000);

  afterAll(async () => {
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads uptime, load, CPU, memory, disks and network of a target pinned in known_hosts', async () => {
    const [collector] = collectors({ targets: server.target });
    const samples = await collector.collect();
    const value = (name: string) => samples.find((s) => s.name === name)?.value;
    expect(value('system.uptime')).toBeGreaterThan(0);
    expect(value('system.cpu.count')).toBeGreaterThan(0);
    expect(value('system.cpu.load_1m')).toBeGreaterThanOrEqual(0);
    expect(value('system.memory.total')).toBeGreaterThan(value('system.memory.used')!);
    expect(samples.some((s) => s.name === 'system.disk.total' && s.tags!.mount === '/')).toBe(true);
    expect(samples.every((s) => s.tags?.target === `127.0.0.1:${server.port}`)).toBe(true);
    const second = await collector.collect();
    expect(second.find((s) => s.name === 'system.cpu.usage')?.value).toBeGreaterThanOrEqual(0);
  });

  it('accepts a target pinned by its SHA256 fingerprint alone', async () => {
    const [collector] = collectors({
      targets: server.target,
      known_hosts_path: join(dir, 'absent'),
      host_key_fingerprints: `127.0.0.1:${server.port}=${fingerprintOfServer()}`,
    });
    await expect(collector.collect()).resolves.toContainEqual(
      expect.objectContaining({ name: 'system.uptime' }),
    );
  });

  it('refuses a host key that differs from the known_hosts pin, naming both fingerprints', async () => {
    const wrong = join(dir, 'wrong_known_hosts');
    writeFileSync(wrong, `[127.0.0.1]:${server.port} ${otherKey()}\n`);
    const [collector] = collectors({ targets: server.target, known_hosts_path: wrong });
    await expect(collector.collect()).rejects.toThrow(
      new RegExp(
        `^refused 127\\.0\\.0\\.1:${server.port}: host key mismatch for 127\\.0\\.0\\.1:${server.port}: it presented ${fingerprintOfServer().replace(/[+/]/g, '\\$&')}, ${wrong} pins SHA256:`,
      ),
    );
  });

  it('refuses a host key that differs from a configured fingerprint', async () => {
    const [collector] = collectors({
      targets: server.target,
      host_key_fingerprints: `127.0.0.1:${server.port}=SHA256:${'A'.repeat(43)}`,
    });
    await expect(collector.collect()).rejects.toThrow(`host_key_fingerprints pins SHA256:${'A'.repeat(43)}`);
  });

  it('refuses a target with no pin at all instead of trusting it on first use', async () => {
    const [collector] = collectors({ targets: server.target, known_hosts_path: join(dir, 'absent') });
    await expect(collector.collect()).rejects.toThrow(`no pinned host key for 127.0.0.1:${server.port}`);
  });

  it('reports an unreachable target as that target failing while the other is collected', async () => {
    const [reachable, unreachable] = collectors({
      targets: `${server.target},${server.user}@127.0.0.1:1`,
      ssh_timeout_seconds: 2,
    });
    const [ok, failed] = await Promise.allSettled([reachable.collect(), unreachable.collect()]);
    expect(ok.status).toBe('fulfilled');
    expect(failed).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/^127\.0\.0\.1:1: .*ECONNREFUSED/) },
    });
  });

  it('puts every target in one batch for --once, tagged by target, with the refused one named in the errors', async () => {
    // localhost is not pinned (known_hosts names 127.0.0.1): it is refused while 127.0.0.1 is read.
    const runner = new CollectorRunner(
      collectors({ targets: `${server.target},${server.user}@localhost:${server.port}` }),
      10_000,
    );
    const { samples, status } = await runner.collect();
    expect(new Set(samples.map((s) => s.tags!.target))).toEqual(new Set([`127.0.0.1:${server.port}`]));
    expect(status.errors).toEqual([
      {
        collector: 'ssh-2',
        error: expect.stringContaining(`no pinned host key for localhost:${server.port}`),
      },
    ]);
  });

  it('accepts a pin from a hashed known_hosts (ssh-keygen -H)', async () => {
    const hashed = join(dir, 'hashed_known_hosts');
    writeFileSync(hashed, server.knownHostsLine());
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'pipe' });
    const [collector] = collectors({ targets: server.target, known_hosts_path: hashed });
    await expect(collector.collect()).resolves.toContainEqual(
      expect.objectContaining({ name: 'system.uptime' }),
    );
  });

  it('refuses a key marked @revoked even when another line pins it', async () => {
    const revoked = join(dir, 'revoked_known_hosts');
    writeFileSync(revoked, `@revoked ${server.knownHostsLine()}${server.knownHostsLine()}`);
    const [collector] = collectors({ targets: server.target, known_hosts_path: revoked });
    await expect(collector.collect()).rejects.toThrow(`is marked @revoked in ${revoked}`);
  });
});
