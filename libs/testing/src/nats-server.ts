import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, ConnectionOptions, credsAuthenticator, NatsConnection } from 'nats';
import { BusAuthority, customPermissions, PlatformIdentity, renderNatsServerConfig } from '@app/nats-auth';

/** A server in operator mode: its key directory, and how to connect as one of its identities. */
export interface SecuredBus {
  authority: BusAuthority;
  /** The platform CA the server's certificate is signed by. */
  caFile: string;
  credsFile(identity: PlatformIdentity | 'system'): string;
  /** nats.js options to connect as that platform identity (creds, CA, its inbox prefix). */
  options(identity: PlatformIdentity | 'system'): ConnectionOptions;
  connect(identity: PlatformIdentity | 'system'): Promise<NatsConnection>;
  /**
   * A PLATFORM user with exactly these permissions (a test observer, an internal consumer). Its inbox
   * is `_INBOX_<name>`, or `_INBOX_<inboxOf>`: services that answer only known identities by inbox
   * (ingestion) answer a bench standing in for one of them.
   */
  connectWith(
    name: string,
    publish: string[],
    subscribe: string[],
    options?: { inboxOf?: string },
  ): Promise<NatsConnection>;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /** The running server's process id (CPU figures in benchmarks); undefined while stopped. */
  pid: number | undefined;
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
  /** Present when started with `secured: true`. */
  bus?: SecuredBus;
}

/** BENCH_NATS_PROF_PORT: nats-server's Go profiler on that port, for a bench that wants to see where the server's CPU goes. */
const profiler = () =>
  process.env.BENCH_NATS_PROF_PORT ? `prof_port: ${Number(process.env.BENCH_NATS_PROF_PORT)}\n` : '';

/**
 * An isolated nats-server with JetStream: first start on a port the server picks itself
 * (`-p -1`, read back from its ports file: no race on a "free" port), later restarts on the
 * same port so clients can reconnect.
 */
export async function startNatsServer(
  options: {
    binary?: string;
    /** Operator (JWT) mode with TLS and the platform's accounts, as `npm start` runs it (`handle.bus`). */
    secured?: boolean;
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
  const bus = options.secured ? await securedBusKeys(join(root, 'auth')) : undefined;
  let jetstream = true;

  const launch = async () => {
    const portsDir = mkdtempSync(join(root, 'ports-'));
    let args: string[];
    if (bus) {
      const configFile = join(root, 'nats-server.conf');
      writeFileSync(
        configFile,
        renderNatsServerConfig(bus.authority, {
          host: '127.0.0.1',
          port,
          storeDir,
          resolverDir: join(root, 'jwt'),
          portsFileDir: portsDir,
          tls: true,
          maxFileStoreBytes: options.maxFileStoreBytes,
        }) + profiler(),
      );
      args = ['-c', configFile];
    } else {
      args = ['-a', '127.0.0.1', '-p', String(port), '--ports_file_dir', portsDir];
      if (jetstream && options.maxFileStoreBytes !== undefined) {
        // The limit exists only in a config file, which then names the store too (-sd beside it is refused).
        const config = join(root, 'nats-server.conf');
        writeFileSync(
          config,
          `jetstream { store_dir: "${storeDir}", max_file_store: ${options.maxFileStoreBytes} }\n`,
        );
        args.push('-c', config);
      } else if (jetstream) args.push('-js', '-sd', storeDir);
    }
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
      const ports = file ? readPortsFile(join(portsDir, file)) : undefined;
      if (ports) {
        port = ports.client;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (port < 0) throw new Error(`nats-server did not report its port:\n${logText}`);
    if (jetstream) await waitForJetStream(`nats://127.0.0.1:${port}`, deadline, bus?.options('ingestion'));
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
    get pid() {
      return child?.pid;
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
    bus: bus && connectableBus(bus, () => `nats://127.0.0.1:${port}`),
  };
}

/** The bus's keys and how to connect with them, to the servers `servers()` names (one URL or a comma list). */
export function connectableBus(
  bus: Omit<SecuredBus, 'connect' | 'connectWith'>,
  servers: () => string,
): SecuredBus {
  return {
    ...bus,
    connect: (identity) => connect({ servers: servers().split(','), ...bus.options(identity) }),
    connectWith: async (name, publish, subscribe, options = {}) =>
      connect({
        servers: servers().split(','),
        authenticator: credsAuthenticator(
          await bus.authority.platformCreds(name, customPermissions(publish, subscribe)),
        ),
        tls: { caFile: bus.caFile },
        inboxPrefix: `_INBOX_${options.inboxOf ?? name}`,
        name,
        // Quick to reconnect: after a NATS restart a test's next messages must not fall in a reconnect wait.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
      }),
  };
}

/** Creates (or opens) the bus keys in `dir`, as `npm start` does on its first start. */
export async function securedBusKeys(dir: string): Promise<Omit<SecuredBus, 'connect' | 'connectWith'>> {
  const authority = await BusAuthority.ensure(dir);
  const caFile = authority.paths.caCertificate;
  const credsFile = (identity: string) => authority.paths.creds(identity);
  const options = (identity: string): ConnectionOptions => ({
    authenticator: credsAuthenticator(readFileSync(credsFile(identity))),
    tls: { caFile },
    inboxPrefix: identity === 'system' ? '_INBOX_account-updates' : `_INBOX_${identity}`,
    name: identity,
  });
  return {
    authority,
    caFile,
    credsFile,
    options,
  };
}

export async function waitForJetStream(
  url: string,
  deadline: number,
  auth?: ConnectionOptions,
): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000, ...auth });
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

/** The ports a server reports in its ports file, or undefined while it is still writing it. */
export function readPortsFile(
  file: string,
): { client: number; cluster?: number; monitor?: number } | undefined {
  try {
    const ports = JSON.parse(readFileSync(file, 'utf8')) as {
      nats: string[];
      cluster?: string[];
      monitoring?: string[];
    };
    const port = (urls?: string[]) => (urls?.[0] ? Number(new URL(urls[0]).port) : undefined);
    return { client: port(ports.nats)!, cluster: port(ports.cluster), monitor: port(ports.monitoring) };
  } catch {
    return undefined;
  }
}
