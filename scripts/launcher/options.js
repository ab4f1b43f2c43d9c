'use strict';
/**
 * Everything `npm start` reads from the environment, read once here. The services read their
 * own variables; this file only decides what the launcher itself needs and what it passes on.
 */
const path = require('node:path');

const LOG_FORMATS = ['pretty', 'json'];
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

class OptionsError extends Error {}

function integer(env, name, fallback, min, max) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}

/** @param {NodeJS.ProcessEnv} env */
function readOptions(env, { repoRoot, isTty }) {
  const logFormat = env.LOG_FORMAT || (isTty ? 'pretty' : 'json');
  if (!LOG_FORMATS.includes(logFormat)) {
    throw new OptionsError(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')} (got "${logFormat}")`);
  }
  const natsUrlGiven = Boolean(env.NATS_URL);
  return {
    repoRoot,
    /** Gateway HTTP port; 0 picks a free one (the banner prints the one chosen). */
    port: integer(env, 'PORT', 3000, 0, 65535),
    /** Interface the gateway listens on; the launcher probes /health there (0.0.0.0 → 127.0.0.1). */
    host: env.HOST || '0.0.0.0',
    publicUrl: env.PUBLIC_URL || undefined,
    natsUrl: env.NATS_URL || DEFAULT_NATS_URL,
    natsUrlGiven,
    /** Port for a nats-server the launcher starts itself: NATS_PORT, else 4222 when free, else any. */
    natsPort: env.NATS_PORT ? integer(env, 'NATS_PORT', 4222, 1, 65535) : undefined,
    natsServerBinary: env.NATS_SERVER_BIN || 'nats-server',
    /** Interface of the nats-server the launcher runs (agents on other hosts connect to it): HOST by default. */
    natsHost: env.NATS_HOST || env.HOST || '0.0.0.0',
    /** The bus keys of an external NATS_URL server (`npm run admin -- nats-auth init`). */
    natsAuthDir: env.NATS_AUTH_DIR || undefined,
    natsCaFile: env.NATS_CA_FILE || undefined,
    /** The URL agents get for NATS in generated commands (AGENT_NATS_URL), if not this machine's. */
    agentNatsUrl: env.AGENT_NATS_URL || undefined,
    /** HTTPS listener of the gateway for agents; unset: 3443 when free, else any free port. */
    httpsPort: env.HTTPS_PORT ? integer(env, 'HTTPS_PORT', 3443, 0, 65535) : undefined,
    /** Host names and addresses the platform certificate must cover (from the URLs agents are given). */
    tlsHosts: [env.PUBLIC_URL, env.AGENT_NATS_URL]
      .filter(Boolean)
      .flatMap((value) => value.split(','))
      .map((value) => {
        try {
          return new URL(value.trim()).hostname.replace(/^\[|\]$/g, '');
        } catch {
          return undefined;
        }
      })
      .filter(Boolean),
    dataDir: path.resolve(repoRoot, env.DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    bootstrapApiKey: env.BOOTSTRAP_API_KEY || undefined,
    logFormat,
    /** Colours in pretty logs on a terminal, unless NO_COLOR is set (https://no-color.org). */
    colour: !env.NO_COLOR,
    /** Pretty output leaves out Nest's per-module/per-route start-up lines unless debugging. */
    quietBoot: !['debug', 'trace'].includes(env.LOG_LEVEL || 'info'),
    startupTimeoutMs: integer(env, 'STARTUP_TIMEOUT_SECONDS', 90, 5, 3600) * 1000,
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600) * 1000,
    /**
     * First port of the services' own /metrics + /health servers (provisioning, ingestion, alerting
     * get consecutive ports). Unset: off — a port picked "free" in advance can be taken before the
     * service binds it, and the platform is watched through the gateway's /health anyway.
     */
    metricsPortBase: env.METRICS_PORT_BASE ? integer(env, 'METRICS_PORT_BASE', 9464, 1, 65000) : undefined,
    /**
     * How the launcher restarts a child that dies (scripts/launcher/supervisor.js): at most
     * RESTART_LIMIT restarts within RESTART_WINDOW_SECONDS, else the platform stops; 0 never restarts.
     */
    restartPolicy: {
      maxRestarts: integer(env, 'RESTART_LIMIT', 5, 0, 1000),
      windowMs: integer(env, 'RESTART_WINDOW_SECONDS', 300, 1, 86_400) * 1000,
    },
    /** The environment the printed agent command enrolls into. */
    agentEnvironment: env.DEV_AGENT_ENVIRONMENT || 'dev',
  };
}

module.exports = { readOptions, OptionsError, DEFAULT_NATS_URL };
