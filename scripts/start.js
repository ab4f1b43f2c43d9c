#!/usr/bin/env node
'use strict';
/**
 * `npm start`: the whole platform on one machine. Before it, npm runs `prestart`
 * (scripts/ensure-installed.js), which installs the dependencies when node_modules is missing or stale.
 *
 *   1. builds if the compiled output is missing or stale (scripts/ensure-built.js);
 *   2. uses the NATS server at NATS_URL, or starts nats-server from PATH (JetStream, store in
 *      DATA_DIR/nats) when none answers, and stops it on exit;
 *   3. runs tokens, provisioning, ingestion, alerting and gateway as child processes with one shared
 *      environment, forwarding their logs;
 *   4. waits until the gateway is healthy and every service answers, then prints the URLs, the
 *      bootstrap API key (first start only) and a command that starts a local Server agent.
 *
 * Ctrl-C / SIGTERM stops the services, then its own nats-server. A service or nats-server that dies
 * is restarted with backoff (scripts/launcher/supervisor.js); only one that keeps failing, or refuses
 * its configuration, stops the platform (exit code 1) with its last lines. Options are environment
 * variables (README, "Configuration").
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const { readOptions, OptionsError, DEFAULT_NATS_URL } = require('./launcher/options');

const BOOTSTRAP_KEY_LINE = /Bootstrap API key \(shown once\): (rca_ak_[A-Za-z0-9_]+)/;

function say(line = '') {
  process.stdout.write(`${line}\n`);
}
function sayError(line) {
  process.stderr.write(`npm start: ${line}\n`);
}

function ensureBuilt() {
  const script = path.join(REPO_ROOT, 'scripts', 'ensure-built.js');
  const result = fs.existsSync(script)
    ? spawnSync(process.execPath, [script], { cwd: REPO_ROOT, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    sayError('the build failed (see the compiler output above); nothing was started');
    process.exit(1);
  }
}

async function main() {
  let options;
  try {
    options = readOptions(process.env, { repoRoot: REPO_ROOT, isTty: Boolean(process.stdout.isTTY) });
  } catch (error) {
    if (error instanceof OptionsError) {
      sayError(error.message);
      process.exit(2);
    }
    throw error;
  }

  ensureBuilt();
  // Compiled code is only loadable after the build: the wire names come from @app/contracts.
  const { Subjects } = require(path.join(REPO_ROOT, 'dist', 'libs', 'contracts', 'src'));
  const { resolveNats, busAuth, freePort, portIsFree, tail } = require('./launcher/nats');
  const { supervise } = require('./launcher/supervisor');
  const { SERVICES, startService, formatLine } = require('./launcher/services');
  const client = require('./launcher/platform-client');

  fs.mkdirSync(options.dataDir, { recursive: true });
  const probeHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  if (options.port !== 0 && !(await portIsFree(options.port, probeHost))) {
    sayError(`port ${options.port} is already in use: set PORT to another port (PORT=0 picks a free one)`);
    process.exit(1);
  }

  let nats;
  try {
    nats = await resolveNats(options, (line) => say(`npm start: ${line}`));
  } catch (error) {
    sayError(error.message);
    process.exit(1);
  }

  const port = options.port === 0 ? await freePort() : options.port;
  const localUrl = `http://${probeHost}:${port}`;
  const publicUrl = options.publicUrl ?? `http://localhost:${port}`;
  // Agents' HTTPS (enrollment, renewal, intake), with the platform CA's certificate.
  let httpsPort = options.httpsPort;
  if (httpsPort === undefined) httpsPort = options.port !== 0 && (await portIsFree(3443, probeHost)) ? 3443 : await freePort();
  const agentPlatformUrl = `https://localhost:${httpsPort}`;
  const { bus } = nats;
  const creds = (service) => path.join(bus.authDir, 'creds', `${service}.creds`);
  // The listener certificate of the key directory (npm start's own, or one made by `nats-auth init`).
  const certificate = path.join(bus.authDir, 'tls', 'server.pem');
  const serverTls = fs.existsSync(certificate)
    ? { TLS_CERT_FILE: certificate, TLS_KEY_FILE: path.join(bus.authDir, 'tls', 'server-key.pem') }
    : {};

  /** One supervisor per child: services and, when the launcher runs it, nats-server. */
  const supervisors = [];
  let natsSupervisor;
  let stopping = false;
  let bootstrapKey;

  const stopAll = async (exitCode, reason) => {
    if (stopping) return;
    stopping = true;
    if (reason) sayError(reason);
    say('npm start: stopping services…');
    const services = supervisors.filter((s) => s.name !== 'nats-server');
    await Promise.all(services.map((s) => s.stop(options.shutdownTimeoutMs)));
    if (natsSupervisor) {
      say('npm start: stopping nats-server…');
      await natsSupervisor.stop(options.shutdownTimeoutMs);
    }
    say('npm start: stopped.');
    process.exit(exitCode);
  };

  let interrupts = 0;
  const onSignal = (signal) => {
    interrupts += 1;
    if (interrupts > 1) {
      // A second Ctrl-C means "now": no more waiting for graceful shutdown.
      sayError(`${signal} again: killing everything`);
      for (const supervisor of supervisors) supervisor.kill();
      process.exit(130);
    }
    void stopAll(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const colour = Boolean(process.stdout.isTTY) && options.colour;
  const supervisorLog = (level, line) => (level === 'info' ? say(`npm start: ${line}`) : sayError(line));
  const giveUp = (reason, lastLines) =>
    void stopAll(1, lastLines ? `${reason}. Its last lines:\n${lastLines}` : reason);

  if (nats.own) {
    let first = nats.own;
    natsSupervisor = supervise({
      name: 'nats-server',
      // The server resolveNats started is adopted; restarts start it again on the same port.
      start: async () => {
        if (!first) return nats.restartOwn();
        const adopted = first;
        first = undefined;
        return adopted;
      },
      log: supervisorLog,
      onGiveUp: giveUp,
      lastLines: () => tail(nats.own.logFile, 10),
      policy: options.restartPolicy,
    });
    supervisors.push(natsSupervisor);
    await natsSupervisor.begin();
  }

  /** The last lines each service printed, for the message when it keeps failing. */
  const recentLines = new Map();
  const onLine = (service, line, stream) => {
    const match = service === 'tokens' ? BOOTSTRAP_KEY_LINE.exec(line) : null;
    if (match) bootstrapKey = match[1];
    // The bootstrap key is shown once: never again in a failure message.
    const recent = recentLines.get(service) ?? [];
    if (!match) recent.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (recent.length > 10) recent.shift();
    recentLines.set(service, recent);
    const out = formatLine(service, line, stream, options.logFormat, colour, options.quietBoot);
    if (out === null) return;
    (stream === 'stderr' && options.logFormat === 'pretty' ? process.stderr : process.stdout).write(
      `${out}\n`,
    );
  };

  const sharedEnv = {
    ...process.env,
    NATS_URL: nats.url,
    ...(bus.caFile ? { NATS_CA_FILE: bus.caFile, PLATFORM_CA_FILE: bus.caFile } : {}),
    DATA_DIR: options.dataDir,
    PORT: String(port),
    HOST: options.host,
    PUBLIC_URL: publicUrl,
  };
  // Each service is its own NATS user with only its own permissions (docs/protocol.md).
  const ownEnv = {
    tokens: { NATS_AUTH_DIR: bus.authDir },
    gateway: { ...serverTls, HTTPS_PORT: String(httpsPort) },
  };
  let metricsPort = options.metricsPortBase;
  for (const service of SERVICES) {
    // Services with their own /metrics get consecutive ports from METRICS_PORT_BASE, or none (0).
    const env = {
      ...sharedEnv,
      NATS_CREDS: creds(service),
      ...ownEnv[service],
      ...(service === 'gateway' ? {} : { METRICS_PORT: String(metricsPort === undefined ? 0 : metricsPort++) }),
    };
    const supervisor = supervise({
      name: service,
      start: async () => startService({ repoRoot: REPO_ROOT, service, env, onLine }),
      log: supervisorLog,
      onGiveUp: giveUp,
      lastLines: () => (recentLines.get(service) ?? []).join('\n'),
      policy: options.restartPolicy,
    });
    supervisors.push(supervisor);
    await supervisor.begin();
  }

  const waitOptions = { deadline: Date.now() + options.startupTimeoutMs, abort: () => stopping };
  try {
    await client.waitForHealth(localUrl, waitOptions);
    await client.waitForResponders(
      nats.url,
      busAuth(bus.authDir, 'admin', bus.caFile),
      [
        { service: 'tokens', subject: Subjects.tokens.verify },
        { service: 'provisioning', subject: Subjects.provisioning.provision },
        { service: 'ingestion', subject: Subjects.metricsQuery },
        { service: 'alerting', subject: Subjects.alerts.listRules },
      ],
      waitOptions,
    );
  } catch (error) {
    if (stopping) return;
    await stopAll(1, `the platform did not come up: ${error.message}`);
    return;
  }

  const apiKey = bootstrapKey ?? options.bootstrapApiKey;
  let agentCommand;
  let agentProblem;
  if (apiKey) {
    try {
      const provisioned = await client.provisionServerAgent(
        { baseUrl: localUrl, apiKey, environment: options.agentEnvironment },
        { deadline: Date.now() + 30_000, abort: () => stopping },
      );
      agentCommand = client.localAgentCommand({
        token: provisioned.enrollmentToken,
        natsUrl: nats.url,
        platformUrl: agentPlatformUrl,
        caPin: bus.caPin,
      });
    } catch (error) {
      agentProblem = error.message;
    }
  }
  if (stopping) return;

  // The admin CLI reaches the token service over NATS as `admin` (its creds are found under DATA_DIR).
  const admin = `${nats.url === DEFAULT_NATS_URL ? '' : `NATS_URL=${nats.url} `}npm run admin --`;
  const lines = [
    '',
    '────────────────────────────────────────────────────────────────────────',
    ' Agent Connector is running',
    '',
    ` Dashboard:  ${publicUrl}/`,
    ` API:        ${publicUrl}/api/v1   (OpenAPI docs: ${publicUrl}/docs)`,
    ` NATS:       ${nats.url}${nats.own ? `   (started by npm start: operator mode, TLS; keys ${bus.authDir})` : `   (keys ${bus.authDir})`}`,
    ` Agents:     ${agentPlatformUrl} (HTTPS)${bus.caPin ? `   platform CA pin ${bus.caPin}` : ''}`,
    ` Data:       ${options.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `SQLite files in ${options.dataDir}`}`,
    '',
  ];
  if (bootstrapKey) {
    lines.push(` API key:    ${bootstrapKey}`);
    lines.push('             (organisation "default"; shown once: save it now)');
  } else if (options.bootstrapApiKey) {
    lines.push(' API key:    the one in BOOTSTRAP_API_KEY');
  } else {
    lines.push(' API key:    printed on the first start with this data directory.');
    lines.push(`             Lost it? Create another: ${admin} key create default`);
  }
  lines.push(` More organisations: ${admin} org create <name>`);
  lines.push('');
  if (agentCommand) {
    lines.push(
      ` Start a local Server agent (environment "${options.agentEnvironment}") from this directory:`,
    );
    lines.push(`   ${agentCommand}`);
  } else {
    if (agentProblem) lines.push(` Could not provision the local agent: ${agentProblem}`);
    lines.push(' Start a local Server agent: get an enrollment token with your API key,');
    lines.push(
      `   curl -s -X POST ${publicUrl}/api/v1/agent/provision -H "Authorization: Bearer $API_KEY" \\`,
    );
    lines.push(
      `        -H 'content-type: application/json' -d '{"agent_type":"server","environment_name":"${options.agentEnvironment}"}'`,
    );
    lines.push(' then run (from this directory):');
    lines.push(
      `   ${client.localAgentCommand({ token: '<enrollment_token>', natsUrl: nats.url, platformUrl: agentPlatformUrl, caPin: bus.caPin })}`,
    );
  }
  lines.push(
    '',
    ' Press Ctrl-C to stop.',
    '────────────────────────────────────────────────────────────────────────',
    '',
  );
  say(lines.join('\n'));
}

main().catch((error) => {
  sayError(error instanceof Error ? error.stack || error.message : String(error));
  process.exit(1);
});
