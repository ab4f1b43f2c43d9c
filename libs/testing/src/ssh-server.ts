import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SSHD_PATH } from './optional-tools';

/** A port the kernel just gave out; sshd cannot pick its own (it has no `-p 0`). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const keygen = (file: string) =>
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rca-test', '-f', file], {
    stdio: 'pipe',
  });

/**
 * A real OpenSSH server for tests: generated host and user keys in a temporary directory, the
 * current user allowed with the user key, listening on a loopback port, in the foreground (`-D`).
 * `stop()` and `start()` again keep the port and keys, as a rebooted host would.
 */
export class TestSshServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'rca-sshd-'));
  readonly user = userInfo().username;
  readonly hostKeyFile = join(this.dir, 'host_key');
  /** The private key a client logs in with. */
  readonly userKeyFile = join(this.dir, 'user_key');
  port = 0;
  private process?: ChildProcess;
  private log = '';

  static async start(): Promise<TestSshServer> {
    const server = new TestSshServer();
    keygen(server.hostKeyFile);
    keygen(server.userKeyFile);
    execFileSync('cp', [`${server.userKeyFile}.pub`, join(server.dir, 'authorized_keys')]);
    server.port = await freePort();
    await server.resume();
    return server;
  }

  /** `user@127.0.0.1:port`, as a target of the ssh agent type. */
  get target(): string {
    return `${this.user}@127.0.0.1:${this.port}`;
  }

  /** A known_hosts line pinning this server's host key. */
  knownHostsLine(): string {
    const publicKey = execFileSync('cat', [`${this.hostKeyFile}.pub`], { encoding: 'utf8' }).trim();
    const [type, key] = publicKey.split(' ');
    return `[127.0.0.1]:${this.port} ${type} ${key}\n`;
  }

  async resume(): Promise<void> {
    // As root, sshd insists on its privilege-separation directory.
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const config = join(this.dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${this.hostKeyFile}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        `AllowUsers ${this.user}`,
        '',
      ].join('\n'),
    );
    this.log = '';
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start:\n${this.log}`)), 10_000);
      child.stderr!.on('data', (d: Buffer) => {
        this.log += d.toString();
        if (this.log.includes('Server listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited with ${code}:\n${this.log}`));
      });
    });
  }

  output(): string {
    return this.log;
  }

  /** Stops the daemon (open sessions end with it); the keys and port stay for `resume()`. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    this.process = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
