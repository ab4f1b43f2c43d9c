'use strict';
/**
 * The platform's services as child processes of `npm start`: spawn, forward their logs (pino
 * JSON as it is, or rendered for a terminal), and stop them.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

/** Start order: tokens first (it creates the bootstrap organisation), the gateway last. */
const SERVICES = ['tokens', 'provisioning', 'ingestion', 'alerting', 'gateway'];

const LEVEL_NAMES = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS = { 10: 90, 20: 36, 30: 32, 40: 33, 50: 31, 60: 35 };
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'service', 'context', 'v']);

function mainFile(repoRoot, service) {
  return path.join(repoRoot, 'dist', 'apps', service, 'src', 'main.js');
}

/** Nest's start-up chatter (one line per module and route); hidden on a terminal unless LOG_LEVEL is debug/trace. */
const NEST_BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * One log line as the user sees it, or null to hide it. `stream` is 'stdout' or 'stderr';
 * `quiet` hides Nest's start-up chatter in pretty output (JSON output is never filtered).
 */
function formatLine(service, line, stream, format, colour, quiet = false) {
  let record;
  if (line.startsWith('{')) {
    try {
      record = JSON.parse(line);
    } catch {
      record = undefined;
    }
  }
  if (format === 'json') {
    if (record && typeof record === 'object') return line;
    // Plain text (a config error, a crash trace) becomes a pino-shaped record so the stream stays JSON.
    return JSON.stringify({ level: stream === 'stderr' ? 50 : 30, time: Date.now(), service, msg: line });
  }
  if (!record || typeof record !== 'object') return `${service.padEnd(12)} ${line}`;
  if (quiet && NEST_BOOT_CONTEXTS.has(record.context)) return null;
  const level = typeof record.level === 'number' ? record.level : 30;
  const time = new Date(typeof record.time === 'number' ? record.time : Date.now())
    .toISOString()
    .slice(11, 23);
  let levelName = (LEVEL_NAMES[level] || String(level)).padEnd(5);
  if (colour) levelName = `\u001b[${COLOURS[level] || 0}m${levelName}\u001b[0m`;
  // pino-http's request lines carry whole header objects; a terminal needs one line per request.
  if (record.req && record.res && typeof record.req === 'object' && typeof record.res === 'object') {
    const { method, url } = record.req;
    return `${time} ${levelName} ${service.padEnd(12)} ${method} ${url} → ${record.res.statusCode} (${record.responseTime} ms)`;
  }
  const extras = Object.entries(record)
    .filter(([key]) => !PINO_FIELDS.has(key))
    .map(([key, value]) => {
      if (key === 'err' && value && typeof value === 'object' && value.stack) return `\n${value.stack}`;
      return `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
    });
  const context = record.context ? `[${record.context}] ` : '';
  return `${time} ${levelName} ${service.padEnd(12)} ${context}${record.msg ?? ''}${extras.length ? ' ' + extras.join(' ') : ''}`;
}

/**
 * Spawns `node dist/apps/<service>/src/main.js`. Each output line goes to `onLine(service,
 * line, stream)`; listeners given to `onExit(listener)` hear `(code, signal)` once when it ends.
 */
function startService({ repoRoot, service, env, onLine }) {
  const child = spawn(process.execPath, [mainFile(repoRoot, service)], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of ['stdout', 'stderr']) {
    readline
      .createInterface({ input: child[stream], crlfDelay: Infinity })
      .on('line', (line) => onLine(service, line, stream));
  }
  let exit;
  const exitedPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (error) => {
      if (exit) return;
      exit = { code: null, signal: null };
      onLine(service, `could not start: ${error.message}`, 'stderr');
      resolve(exit);
    });
  });
  return {
    service,
    pid: child.pid,
    isRunning: () => !exit,
    onExit(listener) {
      void exitedPromise.then(({ code, signal }) => listener(code, signal));
    },
    /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process is gone. */
    async stop(timeoutMs) {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exit) child.kill('SIGKILL');
      }, timeoutMs);
      await exitedPromise;
      clearTimeout(timer);
    },
    kill: () => {
      if (!exit) child.kill('SIGKILL');
    },
  };
}

module.exports = { SERVICES, startService, formatLine, mainFile };
