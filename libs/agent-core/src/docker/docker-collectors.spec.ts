import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { requireTool, waitFor } from '@app/testing';
import { agentTypes } from '../builtin-agent-types';
import {
  DockerContainersCollector,
  DockerDaemonCollector,
  DockerStatsCollector,
  dockerClientOptions,
} from './docker-collectors';

// podman serves the Docker Engine API here: no Docker daemon is needed.
const podman = requireTool('podman');
/** Settings that let podman run as root in a sandbox without overlayfs, systemd or journald. */
const PODMAN_FLAGS = ['--storage-driver=vfs', '--cgroup-manager=cgroupfs', '--events-backend=file'];
const IMAGE = 'localhost/rca-agent-test:latest';

/** The Docker collectors against a real Docker Engine API: `podman system service` on a temporary socket. */
podman.describe('Docker collectors against a Docker Engine API (podman)', () => {
  let root: string;
  let socket: string;
  let service: ChildProcess;
  let serviceLog = '';
  let docker: Docker;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rca-podman-'));
    socket = join(root, 'podman.sock');
    const podman = [...PODMAN_FLAGS, '--root', join(root, 'storage'), '--runroot', join(root, 'run')];
    service = spawn('podman', [...podman, 'system', 'service', '--time=0', `unix://${socket}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout!.on('data', (d: Buffer) => (serviceLog += d.toString()));
    service.stderr!.on('data', (d: Buffer) => (serviceLog += d.toString()));
    docker = new Docker(dockerClientOptions(`unix://${socket}`));
    await waitFor('the podman API socket', () => docker.ping().then(() => true), 20_000).catch((error) => {
      throw new Error(`podman system service did not start: ${error}\n${serviceLog}`);
    });
    // The smallest possible image: a root filesystem holding one file.
    const rootfs = join(root, 'rootfs');
    mkdirSync(rootfs);
    writeFileSync(join(rootfs, 'hello.txt'), 'hello\n');
    execFileSync('tar', ['-C', rootfs, '-cf', join(root, 'rootfs.tar'), '.']);
    execFileSync('podman', [...podman, 'import', join(root, 'rootfs.tar'), IMAGE], { stdio: 'pipe' });
  }, 60_000);

  afterAll(async () => {
    service?.kill('SIGTERM');
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('sees a created container in state "created" and counts the other states as zero', async () => {
    await docker.createContainer({ Image: IMAGE, Cmd: ['/hello.txt'], name: 'rca-created' });
    const samples = await new DockerContainersCollector(docker).collect();
    const byState = Object.fromEntries(samples.map((s) => [s.tags!.state, s.value]));
    expect(byState).toMatchObject({ created: 1, running: 0, exited: 0 });
  });

  it('reports the daemon: version, CPUs, memory and images', async () => {
    const samples = await new DockerDaemonCollector(docker).collect();
    const get = (name: string) => samples.find((s) => s.name === name)!;
    expect(get('docker.daemon.info').tags!.server_version).toMatch(/^\d+\.\d+/);
    expect(get('docker.daemon.cpus').value).toBeGreaterThan(0);
    expect(get('docker.daemon.memory').value).toBeGreaterThan(0);
    expect(get('docker.images').value).toBeGreaterThanOrEqual(1);
  });

  it('reports no per-container samples (and no error) when nothing is running', async () => {
    await expect(new DockerStatsCollector(docker).collect()).resolves.toEqual([]);
  });

  it('is reachable through the docker type config key docker_host', async () => {
    const collectors = agentTypes.createCollectors('docker', { docker_host: `unix://${socket}` });
    const results = await Promise.all(collectors.map((c) => c.collect()));
    expect(
      results
        .flat()
        .some((s) => s.name === 'docker.containers' && s.tags!.state === 'created' && s.value >= 1),
    ).toBe(true);
  });

  it('fails with a clear error when the daemon socket does not exist', async () => {
    const missing = new Docker(dockerClientOptions(`unix://${join(root, 'missing.sock')}`));
    await expect(new DockerContainersCollector(missing).collect()).rejects.toThrow(/ENOENT|connect/);
  });
});
