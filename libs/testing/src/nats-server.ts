import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server (SIGTERM, then SIGKILL); the store dir is kept for restart(). */
  stop(): Promise<void>;
  /**
   * Starts it again on the same port with the same JetStream store; `{ jetstream: false }` without
   * JetStream, as a server whose JetStream gave up (a full disk) looks to its clients.
   */
  restart(options?: { jetstream?: boolean }): Promise<void>;
  /** Stops it and deletes its store. */
  dispose(): Promise<void>;
  /** The server's log so far, for failure messages. */
  log(): string;
}

/**
 * An isolated nats-server with JetStream: first start on a port the server picks itself
 * (`-p -1`, read back from its ports file: no race on a "free" port), later restarts on the
 * same port so clients can reconnect.
 */
export async function startNatsServer(
  options: {
    binary?: string;
    /** JetStream's file storage limit (its `max_file_store`), as on a small disk; default: 75 % of the free disk. */
    maxFileStoreBytes?: number;
  } = {},
): Promise<NatsServerHandle> {
  const binary = options.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const root = mkdtempSync(join(tmpdir(), 'rca-nats-'));
  const storeDir = join(root, 'js');
  let logText = '';
  let child: ChildProcess | undefined;
  let port = -1;
  let jetstream = true;

  const launch = async () => {
    const portsDir = mkdtempSync(join(root, 'ports-'));
    const args = ['-a', '127.0.0.1', '-p', String(port), '--ports_file_dir', portsDir];
    if (jetstream && options.maxFileStoreBytes !== undefined) {
      // The limit exists only in a config file, which then names the store too (-sd beside it is refused).
      const config = join(root, 'nats-server.conf');
      writeFileSync(
        config,
        `jetstream { store_dir: "${storeDir}", max_file_store: ${options.maxFileStoreBytes} }\n`,
      );
      args.push('-c', config);
    } else if (jetstream) args.push('-js', '-sd', storeDir);
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (logText += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (logText += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`nats-server exited with ${code}:\n${logText}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) await exited;
      const file = readdirSync(portsDir).find((f) => f.endsWith('.ports'));
      if (file) {
        const ports = JSON.parse(readFileSync(join(portsDir, file), 'utf8')) as { nats: string[] };
        port = Number(new URL(ports.nats[0]).port);
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (port < 0) throw new Error(`nats-server did not report its port:\n${logText}`);
    if (jetstream) await waitForJetStream(`nats://127.0.0.1:${port}`, deadline);
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  await launch();
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    stop,
    restart: async (restartOptions = {}) => {
      await stop();
      jetstream = restartOptions.jetstream ?? true;
      await launch();
    },
    dispose: async () => {
      await stop();
      if (existsSync(root)) rmSync(root, { recursive: true, force: true });
    },
    log: () => logText,
  };
}

async function waitForJetStream(url: string, deadline: number): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
      try {
        await (await nc.jetstreamManager()).getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`JetStream at ${url} not ready: ${String(lastError)}`);
}
