import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, credsAuthenticator } from 'nats';
import { formatToken, Subjects } from '@app/contracts';
import { startNatsServer } from '@app/testing';
import {
  BUILD_TIMEOUT_MS,
  cleanEnv,
  ensureBuilt,
  REPO_ROOT,
  runLauncherToExit,
  RunningLauncher,
  startLauncher,
} from './support/launcher';

/* eslint-disable @typescript-eslint/no-require-imports -- the launcher's own plain-JavaScript helpers */
const { busAuth } = require('../scripts/launcher/nats') as {
  busAuth: (authDir: string, identity: string, caFile: string) => object;
};
const { waitForResponders } = require('../scripts/launcher/platform-client') as {
  waitForResponders: (
    url: string,
    auth: object,
    responders: { service: string; subject: string }[],
    options: { deadline: number; abort: () => boolean },
  ) => Promise<void>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** A TCP port with nothing listening on it: the "NATS_URL points at nothing" case. */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the nats-server npm start runs: it writes `nats-server_<pid>.ports` into its store dir. */
function ownNatsPid(dataDir: string): number | undefined {
  if (!existsSync(join(dataDir, 'nats'))) return undefined;
  const file = readdirSync(join(dataDir, 'nats')).find((f) => /^nats-server_\d+\.ports$/.test(f));
  return file ? Number(/_(\d+)\./.exec(file)?.[1]) : undefined;
}

/** Whether the platform's bus answers at `url`, connecting as `admin` with the keys npm start keeps in `dataDir`. */
async function natsAnswers(url: string, dataDir: string): Promise<boolean> {
  try {
    const nc = await connect({
      servers: url,
      reconnect: false,
      timeout: 1000,
      authenticator: credsAuthenticator(readFileSync(join(dataDir, 'nats-auth', 'creds', 'admin.creds'))),
      tls: { caFile: join(dataDir, 'nats-auth', 'tls', 'ca.pem') },
    });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** The pid of one service that the launcher `launcherPid` runs (`node dist/apps/<service>/src/main.js`). */
function servicePid(launcherPid: number, service: string): number {
  const listing = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(launcherPid)], { encoding: 'utf8' });
  const line = listing.stdout.split('\n').find((l) => l.includes(join('apps', service, 'src', 'main.js')));
  if (!line) throw new Error(`no ${service} process under ${launcherPid}:\n${listing.stdout}`);
  return Number(line.trim().split(/\s+/)[0]);
}

async function waitForCondition(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function waitForOutput(launcher: RunningLauncher, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return waitForCondition(
    `npm start to print ${pattern}`,
    async () => pattern.test(launcher.output()),
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- npm start output ---\n${launcher.output().slice(-6000)}`);
  });
}

describe('npm start (scripts/start.js)', () => {
  let dataDir: string;
  let nothingThere: string;
  let running: RunningLauncher | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'rca-launcher-'));
    nothingThere = `nats://127.0.0.1:${await unusedPort()}`;
  }, BUILD_TIMEOUT_MS);

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts its own nats-server when nothing answers at NATS_URL and stops it on SIGTERM', async () => {
    running = await startLauncher(cleanEnv({ NATS_URL: nothingThere, DATA_DIR: dataDir, PORT: '0' }));
    const { banner } = running;
    expect(banner.natsUrl).not.toBe(nothingThere);
    expect(await natsAnswers(banner.natsUrl, dataDir)).toBe(true);
    const natsPid = ownNatsPid(dataDir);
    expect(natsPid).toBeDefined();
    expect((await fetch(`${banner.baseUrl.replace('localhost', '127.0.0.1')}/health`)).status).toBe(200);

    const code = await running.stop('SIGTERM');
    running = undefined;
    expect(code).toBe(0);
    expect(isAlive(natsPid!)).toBe(false);
    expect(await natsAnswers(banner.natsUrl, dataDir)).toBe(false);
  });

  it('prints the bootstrap API key on the first start only; a second start reuses the data', async () => {
    // The first test's start created the key; this start sees the same DATA_DIR.
    running = await startLauncher(cleanEnv({ NATS_URL: nothingThere, DATA_DIR: dataDir, PORT: '0' }));
    expect(running.banner.apiKey).toBeUndefined();
    expect(running.output()).not.toMatch(/Bootstrap API key \(shown once\)/);
    expect(running.output()).toMatch(/API key:\s+printed on the first start/);
    // Ctrl-C in a terminal is SIGINT: the same clean stop as SIGTERM.
    expect(await running.stop('SIGINT')).toBe(0);
    running = undefined;
  });

  it('restarts a service or its own nats-server killed with SIGKILL; the API answers again', async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), 'rca-launcher-restart-'));
    const key = formatToken('api_key', randomBytes);
    try {
      running = await startLauncher(
        cleanEnv({ NATS_URL: nothingThere, DATA_DIR: ownDataDir, PORT: '0', BOOTSTRAP_API_KEY: key }),
      );
      const base = running.banner.baseUrl.replace('//localhost:', '//127.0.0.1:');
      const agentsAnswer = async () =>
        (
          await fetch(`${base}/api/v1/agents`, { headers: { authorization: `Bearer ${key}` } }).catch(
            () => undefined,
          )
        )?.status === 200;

      const ingestion = servicePid(running.pid, 'ingestion');
      process.kill(ingestion, 'SIGKILL');
      await waitForOutput(running, /ingestion restarted \(pid (\d+); restart 1 since npm start\)/);
      expect(running.output()).toMatch(
        /ingestion exited unexpectedly \(signal SIGKILL\) after [\d.]+ s; restarting in/,
      );
      const restarted = servicePid(running.pid, 'ingestion');
      expect(restarted).not.toBe(ingestion);
      // The new instance answers its RPCs on the bus (what the banner waits for at start-up).
      await waitForResponders(
        running.banner.natsUrl,
        busAuth(join(ownDataDir, 'nats-auth'), 'admin', join(ownDataDir, 'nats-auth', 'tls', 'ca.pem')),
        [{ service: 'ingestion', subject: Subjects.metricsQuery }],
        { deadline: Date.now() + 30_000, abort: () => false },
      );

      const nats = ownNatsPid(ownDataDir)!;
      process.kill(nats, 'SIGKILL');
      await waitForOutput(running, /nats-server restarted \(pid (\d+)/);
      // Same URL: services (and agents) reconnect to what they were given.
      expect(await natsAnswers(running.banner.natsUrl, ownDataDir)).toBe(true);
      expect(ownNatsPid(ownDataDir)).not.toBe(nats);
      await waitForCondition('the API to answer through the restarted bus', agentsAnswer, 30_000);

      expect(await running.stop()).toBe(0);
      running = undefined;
    } finally {
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  it('with BOOTSTRAP_API_KEY set it creates that key, does not print it, and still prints an agent command', async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), 'rca-launcher-key-'));
    const key = formatToken('api_key', randomBytes);
    try {
      running = await startLauncher(
        cleanEnv({ NATS_URL: nothingThere, DATA_DIR: ownDataDir, PORT: '0', BOOTSTRAP_API_KEY: key }),
      );
      expect(running.output()).not.toContain(key);
      expect(running.output()).toMatch(/API key:\s+the one in BOOTSTRAP_API_KEY/);
      expect(running.banner.agentCommand).toMatch(/^RCA_TOKEN=rca_et_\S+ /);
      const agents = await fetch(
        `${running.banner.baseUrl.replace('//localhost:', '//127.0.0.1:')}/api/v1/agents`,
        {
          headers: { authorization: `Bearer ${key}` },
        },
      );
      expect(agents.status).toBe(200);
      expect(await running.stop()).toBe(0);
      running = undefined;
    } finally {
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  it('says how to get NATS and exits 1 when nothing answers and nats-server is not on PATH', async () => {
    const result = await runLauncherToExit(
      cleanEnv({
        NATS_URL: nothingThere,
        DATA_DIR: dataDir,
        NATS_SERVER_BIN: 'no-such-nats-server',
        PORT: '0',
      }),
    );
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/No NATS server answers at nats:\/\/127\.0\.0\.1:\d+/);
    expect(result.output).toMatch(/install nats-server/);
    expect(result.output).toMatch(/not on PATH to run a secured one/);
    expect(result.output).toMatch(/set NATS_URL/);
  });

  it('does not run on a NATS server that lets anonymous clients in, and its own refuses them', async () => {
    const open = await startNatsServer();
    try {
      running = await startLauncher(cleanEnv({ NATS_URL: open.url, DATA_DIR: dataDir, PORT: '0' }));
      expect(running.output()).toMatch(/lets anonymous clients in: the platform will not run on it/);
      expect(running.banner.natsUrl).not.toBe(open.url);
      await expect(
        connect({
          servers: running.banner.natsUrl,
          reconnect: false,
          timeout: 2000,
          tls: { caFile: join(dataDir, 'nats-auth', 'tls', 'ca.pem') },
        }),
      ).rejects.toThrow(/Authorization/i);
      // Nothing of the platform reached the open server.
      const nc = await connect({ servers: open.url });
      const jsm = await nc.jetstreamManager();
      expect((await jsm.streams.names().next()).length).toBe(0);
      await nc.close();
    } finally {
      await running?.stop();
      running = undefined;
      await open.dispose();
    }
  });

  it('runs on a NATS server of your own that holds its keys (NATS_URL with NATS_AUTH_DIR)', async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), 'rca-launcher-external-'));
    const keys = join(ownDataDir, 'keys');
    const config = join(ownDataDir, 'nats-server.conf');
    let server: ChildProcess | undefined;
    try {
      // What docs/configuration.md tells an operator to do: generate the keys, run nats-server with them.
      const init = spawnSync(
        process.execPath,
        [
          join(REPO_ROOT, 'dist/apps/gateway/src/admin.js'),
          'nats-auth',
          'init',
          '--dir',
          keys,
          '--config',
          config,
          '--port',
          String(await unusedPort()),
          '--store-dir',
          join(ownDataDir, 'js'),
          '--resolver-dir',
          join(ownDataDir, 'accounts'),
        ],
        { encoding: 'utf8', env: cleanEnv({ DATA_DIR: ownDataDir }) },
      );
      expect(init.status).toBe(0);
      expect(init.stdout).toMatch(/Platform CA pin: sha256:[0-9a-f]{64}/);
      const port = /listen: "0\.0\.0\.0:(\d+)"/.exec(readFileSync(config, 'utf8'))![1];
      server = spawn('nats-server', ['-c', config], { stdio: 'ignore' });
      const url = `tls://127.0.0.1:${port}`;
      running = await startLauncher(
        cleanEnv({ NATS_URL: url, NATS_AUTH_DIR: keys, DATA_DIR: ownDataDir, PORT: '0' }),
      );
      expect(running.banner.natsUrl).toBe(url);
      expect(running.output()).toMatch(/Using the NATS server at tls:\/\/127\.0\.0\.1:\d+ with the keys in/);
      expect(running.banner.apiKey).toMatch(/^rca_ak_/);
    } finally {
      await running?.stop();
      running = undefined;
      server?.kill('SIGTERM');
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  it('refuses NATS_AUTH_DIR without a server that accepts those keys, naming the problem', async () => {
    const result = await runLauncherToExit(
      cleanEnv({
        NATS_URL: nothingThere,
        NATS_AUTH_DIR: join(dataDir, 'nats-auth'),
        DATA_DIR: dataDir,
        PORT: '0',
      }),
    );
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/Cannot connect to nats:\/\/127\.0\.0\.1:\d+ with the keys in/);
  });

  it('stops everything and exits 1, naming the service and its last lines, when a service refuses its configuration', async () => {
    // RPC_TIMEOUT_MS below its minimum makes every service refuse its configuration (exit code 78):
    // restarting cannot help, so the launcher does not.
    const result = await runLauncherToExit(
      cleanEnv({ NATS_URL: nothingThere, DATA_DIR: dataDir, PORT: '0', RPC_TIMEOUT_MS: '1' }),
    );
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      /(tokens|provisioning|ingestion|alerting|gateway) refused its configuration \(exit code 78\); stopping the platform\. Its last lines:\n[^]*RPC_TIMEOUT_MS/,
    );
    expect(result.output).not.toMatch(/restarted \(pid/);
    const natsPid = ownNatsPid(dataDir);
    expect(natsPid === undefined || !isAlive(natsPid)).toBe(true);
  });
});
