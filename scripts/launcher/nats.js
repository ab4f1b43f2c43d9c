'use strict';
/**
 * The NATS bus for `npm start`. By default a nats-server from PATH that the launcher runs itself, in
 * operator (JWT) mode with TLS: the bus keys (operator, accounts, signing keys, one .creds per service,
 * the platform CA) are generated under DATA_DIR/nats-auth on first start, JetStream stores under
 * DATA_DIR/nats. With NATS_URL and NATS_AUTH_DIR set, an external server that holds those keys is
 * used instead. A server that lets anonymous clients in is never used.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { connect, credsAuthenticator } = require('nats');

const PROBE_TIMEOUT_MS = 1500;
const OWN_SERVER_READY_TIMEOUT_MS = 15_000;

/** Does a NATS server answer at `url` (as `auth`, else anonymously), and does it have JetStream? */
async function probeNats(url, timeoutMs = PROBE_TIMEOUT_MS, auth = {}) {
  let nc;
  try {
    nc = await connect({
      servers: url.split(',').map((s) => s.trim()),
      reconnect: false,
      timeout: timeoutMs,
      ...auth,
    });
  } catch (error) {
    return { reachable: false, reason: error instanceof Error ? error.message : String(error) };
  }
  try {
    await (await nc.jetstreamManager({ timeout: timeoutMs })).getAccountInfo();
    return { reachable: true, jetstream: true };
  } catch (error) {
    return {
      reachable: true,
      jetstream: false,
      reason: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** The executable's full path when `binary` is on PATH (or is itself a path), else undefined. */
function findExecutable(binary, envPath = process.env.PATH || '') {
  const candidates = binary.includes(path.sep)
    ? [binary]
    : envPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}

function portIsFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port nobody listens on right now (the OS picks it). */
function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

/** The client URL from a ports file, or undefined while the server is still writing it. */
function readPortsFile(file) {
  try {
    const ports = JSON.parse(fs.readFileSync(file, 'utf8'));
    // Clients on this machine use loopback; the certificate covers it. TLS is always on.
    return ports.nats && ports.nats[0] ? `tls://127.0.0.1:${new URL(ports.nats[0]).port}` : undefined;
  } catch {
    return undefined;
  }
}

/** Ports files of servers that are gone (killed before they could remove theirs): tools would find a dead pid. */
function removeStalePortsFiles(dir) {
  for (const file of fs.readdirSync(dir)) {
    const pid = /^nats-server_(\d+)\.ports$/.exec(file)?.[1];
    if (!pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch {
      fs.rmSync(path.join(dir, file), { force: true });
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connection options for a platform identity of the bus key directory (its creds, the CA, its inbox). */
function busAuth(authDir, identity, caFile) {
  return {
    authenticator: credsAuthenticator(fs.readFileSync(path.join(authDir, 'creds', `${identity}.creds`))),
    ...(caFile ? { tls: { caFile } } : {}),
    inboxPrefix: `_INBOX_${identity}`,
  };
}

/**
 * Starts nats-server in operator mode with JetStream and TLS on `host`. `port` -1 lets the server
 * choose; the port it took is read back from its ports file (no race on a guessed port). The server
 * runs in its own process group so a Ctrl-C in the terminal reaches the services first and NATS last.
 */
async function startOwnNatsServer({ binary, dataDir, port, host = '0.0.0.0', tlsHosts = [] }) {
  // Compiled code: npm start builds before it starts NATS.
  const { BusAuthority, renderNatsServerConfig } = require(
    path.join(__dirname, '..', '..', 'dist', 'libs', 'nats-auth', 'src'),
  );
  const storeDir = path.join(dataDir, 'nats');
  fs.mkdirSync(storeDir, { recursive: true });
  const authority = await BusAuthority.ensure(path.join(dataDir, 'nats-auth'), { tlsHosts });
  const logFile = path.join(storeDir, 'nats-server.log');
  const configFile = path.join(storeDir, 'nats-server.conf');
  // The server writes nats-server_<pid>.ports here (read below; tools find the running server by it).
  const portsDir = storeDir;
  fs.writeFileSync(
    configFile,
    renderNatsServerConfig(authority, {
      host,
      port,
      storeDir,
      resolverDir: path.join(storeDir, 'accounts'),
      portsFileDir: portsDir,
      tls: true,
    }),
    { mode: 0o600 },
  );
  const caFile = authority.paths.caCertificate;
  removeStalePortsFiles(portsDir);
  const child = spawn(binary, ['-c', configFile, '-l', logFile], { stdio: 'ignore', detached: true });
  let exit;
  child.once('exit', (code, signal) => (exit = { code, signal }));
  child.once('error', (error) => (exit = { code: null, signal: null, error }));

  const portsFile = path.join(portsDir, `nats-server_${child.pid}.ports`);
  const deadline = Date.now() + OWN_SERVER_READY_TIMEOUT_MS;
  let url;
  while (!url) {
    if (exit) {
      const why = exit.error ? exit.error.message : `exited with code ${exit.code}`;
      throw new Error(`nats-server ${why}. Last lines of ${logFile}:\n${tail(logFile)}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `nats-server did not start within ${OWN_SERVER_READY_TIMEOUT_MS} ms. Last lines of ${logFile}:\n${tail(logFile)}`,
      );
    }
    if (fs.existsSync(portsFile)) url = readPortsFile(portsFile);
    if (!url) await sleep(25);
  }
  const authDir = authority.dir;
  while (!(await probeNats(url, 1000, busAuth(authDir, 'ingestion', caFile))).jetstream) {
    if (exit || Date.now() > deadline)
      throw new Error(
        `nats-server at ${url} never offered JetStream. Last lines of ${logFile}:\n${tail(logFile)}`,
      );
    await sleep(50);
  }

  return {
    url,
    pid: child.pid,
    logFile,
    configFile,
    bus: { authDir, caFile, caPin: authority.caPin() },
    hasExited: () => Boolean(exit),
    /** `listener(code, signal)` when the server ends, whoever ended it. */
    onExit(listener) {
      if (exit) listener(exit.code, exit.signal);
      else child.once('exit', listener);
    },
    async stop(timeoutMs = 10_000) {
      if (exit) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await gone;
      clearTimeout(timer);
    },
    kill() {
      if (!exit) child.kill('SIGKILL');
    },
  };
}

/**
 * The NATS the platform will use: { url, own, bus } where `own` is the server we started (or null)
 * and `bus` says where the keys are (`authDir`, `caFile`, `caPin`). Throws a user-facing Error when
 * there is no secured server to use and none can be started.
 */
async function resolveNats(options, log) {
  if (options.natsAuthDir) return useExternalNats(options, log);

  // Without the keys of another server, the platform runs on a bus it secures itself.
  const other = await probeNats(options.natsUrl);
  let why = `No NATS server answers at ${options.natsUrl}`;
  if (other.reachable) {
    why = `The NATS server at ${options.natsUrl} lets anonymous clients in: the platform will not run on it`;
    log(`${why}. Starting a secured nats-server of its own (NATS_URL with NATS_AUTH_DIR uses a server that holds the platform's keys).`);
  } else if (/authoriz|authentic/i.test(other.reason ?? '')) {
    why = `The NATS server at ${options.natsUrl} wants credentials that npm start does not have (set NATS_AUTH_DIR to its keys)`;
    log(`${why}. Starting a secured nats-server of its own.`);
  }
  const binary = findExecutable(options.natsServerBinary);
  if (!binary) {
    throw new Error(
      `${why}, and "${options.natsServerBinary}" is not on PATH to run a secured one.\n` +
        'Either install nats-server (https://docs.nats.io/running-a-nats-service/introduction/installation, ' +
        'e.g. "apt-get install nats-server" or "brew install nats-server") so npm start can run one for you,\n' +
        'or run your own with the platform\'s keys ("npm run admin -- nats-auth init") and set NATS_URL and NATS_AUTH_DIR.',
    );
  }
  let port = options.natsPort;
  if (port === undefined) port = (await portIsFree(4222)) ? 4222 : -1;
  log(
    `Starting ${binary} in operator mode with TLS (keys ${path.join(options.dataDir, 'nats-auth')}, JetStream store ${path.join(options.dataDir, 'nats')})`,
  );
  const settings = { binary, dataDir: options.dataDir, port, host: options.natsHost, tlsHosts: options.tlsHosts };
  const own = await startOwnNatsServer(settings);
  log(`Started nats-server (pid ${own.pid}) at ${own.url}; log: ${own.logFile}`);
  // A restart takes the same port, so services and agents reconnect to the URL they were given.
  const restartOwn = () => startOwnNatsServer({ ...settings, port: Number(new URL(own.url).port) });
  return { url: own.url, own, restartOwn, bus: own.bus };
}

/** NATS_URL with NATS_AUTH_DIR: a server run elsewhere that trusts the keys in that directory. */
async function useExternalNats(options, log) {
  const authDir = path.resolve(options.natsAuthDir);
  const caFile = options.natsCaFile ?? (fs.existsSync(path.join(authDir, 'tls', 'ca.pem')) ? path.join(authDir, 'tls', 'ca.pem') : undefined);
  const probe = await probeNats(options.natsUrl, PROBE_TIMEOUT_MS, busAuth(authDir, 'ingestion', caFile));
  if (!probe.reachable) throw new Error(`Cannot connect to ${options.natsUrl} with the keys in ${authDir}: ${probe.reason}`);
  if (!probe.jetstream) {
    throw new Error(
      `The NATS server at ${options.natsUrl} answers but offers no JetStream to the platform account (${probe.reason}).`,
    );
  }
  log(`Using the NATS server at ${options.natsUrl} with the keys in ${authDir}`);
  let caPin;
  if (caFile) {
    const { createHash, X509Certificate } = require('node:crypto');
    caPin = `sha256:${createHash('sha256').update(new X509Certificate(fs.readFileSync(caFile)).raw).digest('hex')}`;
  }
  return { url: options.natsUrl, own: null, bus: { authDir, caFile, caPin } };
}

module.exports = { resolveNats, probeNats, busAuth, findExecutable, portIsFree, freePort, tail };
