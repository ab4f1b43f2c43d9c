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
    /** The environment the printed agent command enrolls into. */
    agentEnvironment: env.DEV_AGENT_ENVIRONMENT || 'dev',
  };
}

module.exports = { readOptions, OptionsError, DEFAULT_NATS_URL };
