'use strict';
/**
 * Finding a NATS server for `npm start`: the one at NATS_URL when it answers, otherwise a
 * nats-server from PATH that the launcher starts itself (JetStream, store under DATA_DIR/nats)
 * and stops when it exits.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { connect } = require('nats');

const PROBE_TIMEOUT_MS = 1500;
const OWN_SERVER_READY_TIMEOUT_MS = 15_000;

/** Does a NATS server answer at `url`, and does it have JetStream? */
async function probeNats(url, timeoutMs = PROBE_TIMEOUT_MS) {
  let nc;
  try {
    nc = await connect({
      servers: url.split(',').map((s) => s.trim()),
      reconnect: false,
      timeout: timeoutMs,
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
    return ports.nats && ports.nats[0] ? `nats://127.0.0.1:${new URL(ports.nats[0]).port}` : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts nats-server with JetStream on 127.0.0.1. `port` -1 lets the server choose; the port it
 * took is read back from its ports file (no race on a guessed port). The server runs in its own
 * process group so a Ctrl-C in the terminal reaches the services first and NATS last.
 */
async function startOwnNatsServer({ binary, storeDir, port }) {
  fs.mkdirSync(storeDir, { recursive: true });
  const logFile = path.join(storeDir, 'nats-server.log');
  const args = [
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-js',
    '-sd',
    storeDir,
    '--ports_file_dir',
    storeDir,
    '-l',
    logFile,
  ];
  const child = spawn(binary, args, { stdio: 'ignore', detached: true });
  let exit;
  child.once('exit', (code, signal) => (exit = { code, signal }));
  child.once('error', (error) => (exit = { code: null, signal: null, error }));

  const portsFile = path.join(storeDir, `nats-server_${child.pid}.ports`);
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
  while (!(await probeNats(url, 1000)).jetstream) {
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
  };
}

/**
 * The NATS the platform will use: { url, own } where `own` is the server we started (or null).
 * Throws a user-facing Error when there is neither a server nor a nats-server binary.
 */
async function resolveNats(options, log) {
  const probe = await probeNats(options.natsUrl);
  if (probe.reachable) {
    if (!probe.jetstream) {
      throw new Error(
        `The NATS server at ${options.natsUrl} answers but has no JetStream (${probe.reason}). ` +
          'Start it with -js (or "jetstream {}" in its config), or point NATS_URL at one that has it.',
      );
    }
    log(`Using the NATS server at ${options.natsUrl}`);
    return { url: options.natsUrl, own: null };
  }

  const binary = findExecutable(options.natsServerBinary);
  if (!binary) {
    throw new Error(
      `No NATS server answers at ${options.natsUrl} (${probe.reason}) and "${options.natsServerBinary}" is not on PATH.\n` +
        'Either install nats-server (https://docs.nats.io/running-a-nats-service/introduction/installation, ' +
        'e.g. "apt-get install nats-server" or "brew install nats-server") so npm start can run one for you,\n' +
        'or start one yourself with JetStream ("nats-server -js") and set NATS_URL to it.',
    );
  }
  let port = options.natsPort;
  if (port === undefined) port = (await portIsFree(4222)) ? 4222 : -1;
  const storeDir = path.join(options.dataDir, 'nats');
  log(`No NATS server answers at ${options.natsUrl}; starting ${binary} (JetStream store ${storeDir})`);
  const own = await startOwnNatsServer({ binary, storeDir, port });
  log(`Started nats-server (pid ${own.pid}) at ${own.url}; log: ${own.logFile}`);
  return { url: own.url, own };
}

module.exports = { resolveNats, probeNats, findExecutable, portIsFree, freePort };
