#!/usr/bin/env node
import 'reflect-metadata';
import pino from 'pino';
import { ConfigError } from '@app/config';
import {
  AgentExitCodes,
  AgentFatalError,
  agentTypes,
  BaseAgent,
  DEFAULT_STATSD_MAX_SERIES,
  PluginCollector,
} from '@app/agent-core';
import { AgentCommandLine, AgentUsageError, parseAgentCommandLine } from './config';

/** If a clean stop has not finished by then, exit anyway: an orchestrator's kill timer is near. */
const HARD_STOP_TIMEOUT_MS = 8000;

function readCommandLine(): AgentCommandLine {
  try {
    const parsed = parseAgentCommandLine(process.argv.slice(2), process.env, (text) =>
      process.stdout.write(text),
    );
    if (parsed === 'help') process.exit(AgentExitCodes.ok);
    return parsed;
  } catch (error) {
    if (error instanceof AgentUsageError || error instanceof ConfigError) {
      process.stderr.write(`rca-agent: ${error.message}\nrca-agent: see rca-agent --help\n`);
      process.exit(AgentExitCodes.badConfig);
    }
    throw error;
  }
}

function createAgent(cli: AgentCommandLine, logger: pino.Logger): BaseAgent {
  const { config } = cli;
  return agentTypes.create(
    config.RCA_AGENT_TYPE,
    {
      transport: config.RCA_TRANSPORT,
      natsUrl: config.RCA_NATS_URL ?? '',
      platformUrl: config.RCA_PLATFORM_URL,
      enrollmentToken: config.RCA_TOKEN,
      caFile: config.RCA_CA_FILE,
      caPin: config.RCA_CA_PIN,
      stateDir: config.RCA_STATE_DIR,
      heartbeatIntervalSeconds: config.RCA_HEARTBEAT_INTERVAL,
      collectIntervalSeconds: cli.collectIntervalSeconds,
      labels: cli.labels,
      logger,
      // The agent's own sources; remote configuration may replace each section live.
      appMetrics: {
        scrape_targets: cli.scrapeTargets,
        exec_plugins: cli.execPlugins,
        statsd: cli.statsd ? { ...cli.statsd, maxSeries: DEFAULT_STATSD_MAX_SERIES } : null,
        otlp: cli.otlp ?? null,
      },
      plugins: cli.plugins.map(
        (file) =>
          new PluginCollector(file, cli.collectIntervalSeconds, (message) =>
            logger.debug({ plugin: file.name }, message),
          ),
      ),
    },
    cli.typeConfig,
    {
      environment: {
        DOCKER_HOST: config.DOCKER_HOST,
        KUBERNETES_SERVICE_HOST: config.KUBERNETES_SERVICE_HOST,
        KUBECONFIG: config.KUBECONFIG,
      },
      collectIntervalSeconds: cli.collectIntervalSeconds,
    },
  );
}

async function main(): Promise<void> {
  const cli = readCommandLine();
  const level = cli.config.RCA_LOG_LEVEL;

  if (cli.once) {
    // stdout carries the batch JSON only; logs go to stderr.
    const agent = createAgent(cli, pino({ name: 'rca-agent', level }, pino.destination(2)));
    const batch = await agent.collectOnce();
    process.stdout.write(`${JSON.stringify(batch, null, 2)}\n`);
    process.exit(AgentExitCodes.ok);
  }

  // Same shape as @app/observability's createLogger, without loading its NestJS logging module.
  const logger = pino({ name: 'rca-agent', level, base: { service: 'rca-agent' } });
  const agent = createAgent(cli, logger);
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    setTimeout(() => process.exit(AgentExitCodes.failure), HARD_STOP_TIMEOUT_MS).unref();
    void agent.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  // Whatever ends the agent (a signal, a revocation) ends the process with its code, even mid-start.
  void agent.exited.then((code) => process.exit(code));
  try {
    await agent.start();
  } catch (error) {
    if (error instanceof AgentFatalError) {
      logger.error({ exitCode: error.exitCode }, error.message);
      process.exit(error.exitCode);
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `rca-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(AgentExitCodes.failure);
});
