import { readFileSync } from 'node:fs';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '@app/config';
import { parseToken, ValidationFailedError } from '@app/contracts';
import {
  AGENT_LOG_LEVELS,
  agentTypes,
  AGENT_VERSION,
  ExecPluginConfig,
  OtlpIntakeConfig,
  parseExecPlugins,
  parseListenAddress,
  parseOtlpSettings,
  parseScrapeTargets,
  parseStatsdAddress,
  listPluginFiles,
  PluginConfigError,
  PluginDirectoryError,
  PluginFile,
  ScrapeTargetConfig,
} from '@app/agent-core';

/**
 * The agent's variables (docs/deploy-contract.md). Property names are the variable names; flags
 * override them. The last three are the platforms' own variables, read here so collectors never
 * touch process.env.
 */
export class AgentConfig {
  @IsOptional()
  @IsString()
  RCA_TOKEN?: string = undefined;

  @IsOptional()
  @Matches(/^(nats|tls|ws|wss):\/\/[^\s,]+(,(nats|tls|ws|wss):\/\/[^\s,]+)*$/, {
    message: 'must be one or more nats:// URLs separated by commas',
  })
  RCA_NATS_URL?: string = undefined;

  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http:// or https:// URL' })
  RCA_PLATFORM_URL?: string = undefined;

  /** A CA certificate (PEM file) to trust for NATS TLS and HTTPS to the platform. */
  @IsOptional()
  @IsString()
  RCA_CA_FILE?: string = undefined;

  /** The platform CA's pin from the install command: the CA is fetched from the platform and must match. */
  @IsOptional()
  @Matches(/^sha256:[0-9a-f]{64}$/, { message: 'must be sha256: followed by 64 lowercase hex digits' })
  RCA_CA_PIN?: string = undefined;

  @IsString()
  RCA_AGENT_TYPE: string = 'server';

  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(1)
  @Max(3600)
  RCA_HEARTBEAT_INTERVAL: number = 10;

  /** Defaults to the heartbeat interval. */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(1)
  @Max(3600)
  RCA_COLLECT_INTERVAL?: number = undefined;

  @IsString()
  @MinLength(1)
  RCA_STATE_DIR: string = './data/agent';

  @IsIn(AGENT_LOG_LEVELS as unknown as string[])
  RCA_LOG_LEVEL: string = 'info';

  @IsOptional()
  @Matches(/^[A-Za-z0-9_./-]{1,63}=[^,=]{0,200}(,[A-Za-z0-9_./-]{1,63}=[^,=]{0,200})*$/, {
    message: 'must be key=value pairs separated by commas',
  })
  RCA_LABELS?: string = undefined;

  /** `http`: the gateway's intake at RCA_PLATFORM_URL, for hosts that cannot reach NATS. */
  @IsIn(['nats', 'http'], { message: 'must be "nats" or "http"' })
  RCA_TRANSPORT: 'nats' | 'http' = 'nats';

  /** Prometheus/OpenMetrics targets to scrape: a JSON array (docs/agent.md, "Application metrics"). */
  @IsOptional()
  @IsString()
  RCA_SCRAPE_TARGETS?: string = undefined;

  /** The same list in a JSON file; used when RCA_SCRAPE_TARGETS is not set. */
  @IsOptional()
  @IsString()
  RCA_SCRAPE_TARGETS_FILE?: string = undefined;

  /** Commands whose stdout is read as metrics: a JSON array (docs/agent.md, "exec plugins"). */
  @IsOptional()
  @IsString()
  RCA_EXEC_PLUGINS?: string = undefined;

  /** The same list in a JSON file; used when RCA_EXEC_PLUGINS is not set. */
  @IsOptional()
  @IsString()
  RCA_EXEC_PLUGINS_FILE?: string = undefined;

  /**
   * Directory of in-process plugins (docs/agent.md, "In-process plugins"); unset: none. It and its files
   * must be owned by the agent's user or root and not writable by group or others.
   */
  @IsOptional()
  @IsString()
  RCA_PLUGIN_DIR?: string = undefined;

  /** Where to receive StatsD over UDP (`8125` = 127.0.0.1:8125); unset: off. */
  @IsOptional()
  @IsString()
  RCA_STATSD_ADDRESS?: string = undefined;

  /** Where to receive OTLP/HTTP metrics (`4318` = 127.0.0.1:4318); unset: off. */
  @IsOptional()
  @IsString()
  RCA_OTLP_ADDRESS?: string = undefined;

  /** The OTLP intake's allow/deny, labels, max_series and max_bytes: a JSON object (docs/agent.md, "OTLP"). */
  @IsOptional()
  @IsString()
  RCA_OTLP_SETTINGS?: string = undefined;

  @IsOptional() @IsString() DOCKER_HOST?: string = undefined;
  @IsOptional() @IsString() KUBERNETES_SERVICE_HOST?: string = undefined;
  @IsOptional() @IsString() KUBECONFIG?: string = undefined;
}

export interface AgentCommandLine {
  config: AgentConfig;
  /** The type's configuration, validated, defaults applied. */
  typeConfig: Record<string, unknown>;
  labels: Record<string, string>;
  collectIntervalSeconds: number;
  scrapeTargets: ScrapeTargetConfig[];
  execPlugins: ExecPluginConfig[];
  /** In-process plugin files (refused ones included, reported as down); empty without RCA_PLUGIN_DIR. */
  plugins: PluginFile[];
  /** StatsD listener; undefined: off. */
  statsd?: { host: string; port: number };
  /** OTLP/HTTP metrics intake; undefined: off. */
  otlp?: { host: string; port: number; config: OtlpIntakeConfig };
  once: boolean;
}

/** Flags of the contract; each overrides its variable. */
const FLAGS: [flag: string, variable: keyof AgentConfig, description: string][] = [
  ['--token <token>', 'RCA_TOKEN', 'enrollment token (rca_et_…), needed on first start'],
  ['--nats-url <urls>', 'RCA_NATS_URL', 'NATS URL(s), comma-separated'],
  ['--platform-url <url>', 'RCA_PLATFORM_URL', 'gateway base URL (enrollment, JWT renewal, HTTP intake)'],
  ['--ca-file <file>', 'RCA_CA_FILE', 'CA certificate (PEM) to trust for NATS TLS and HTTPS'],
  ['--ca-pin <sha256:hex>', 'RCA_CA_PIN', "pin of the platform's CA; the CA is fetched and checked"],
  ['--type <type>', 'RCA_AGENT_TYPE', `agent type: ${agentTypes.names().join(', ')} (default server)`],
  ['--heartbeat-interval <seconds>', 'RCA_HEARTBEAT_INTERVAL', 'seconds between heartbeats (default 10)'],
  [
    '--collect-interval <seconds>',
    'RCA_COLLECT_INTERVAL',
    'seconds between collections (default: heartbeat interval)',
  ],
  [
    '--state-dir <dir>',
    'RCA_STATE_DIR',
    'directory of state.json and the agent key agent.nk (default ./data/agent)',
  ],
  ['--log-level <level>', 'RCA_LOG_LEVEL', `${AGENT_LOG_LEVELS.join(', ')} (default info)`],
  ['--labels <pairs>', 'RCA_LABELS', 'key=value,key=value labels sent at enrollment'],
];

/** Every type's config keys as `--<key-with-dashes>` / `RCA_<KEY>`, except log_level (a common flag). */
function typeConfigKeys(): { key: string; flag: string; variable: string; description: string }[] {
  const seen = new Map<string, { key: string; flag: string; variable: string; description: string }>();
  for (const type of agentTypes.types()) {
    for (const field of type.config) {
      if (field.name === 'log_level' || seen.has(field.name)) continue;
      seen.set(field.name, {
        key: field.name,
        flag: `--${field.name.replace(/_/g, '-')} <value>`,
        variable: `RCA_${field.name.toUpperCase()}`,
        description: `${type.type}: ${field.description}`,
      });
    }
  }
  return [...seen.values()];
}

/** A usage problem; main prints the message and exits with AgentExitCodes.badConfig. */
export class AgentUsageError extends Error {}

/**
 * Reads flags and RCA_* variables into a validated configuration. `--help`/`--version` print through
 * `write` and return 'help'; every problem is an AgentUsageError (or ConfigError) naming the variable.
 */
export function parseAgentCommandLine(
  argv: string[],
  env: NodeJS.ProcessEnv,
  write: (text: string) => void,
): AgentCommandLine | 'help' {
  const typeKeys = typeConfigKeys();
  const program = new Command('rca-agent')
    .description(
      'RCA platform agent: enrolls with an enrollment token, then sends heartbeats and metrics over NATS.',
    )
    .version(AGENT_VERSION)
    .option('--once', 'collect once, print the metrics batch as JSON and exit (no NATS, no token)')
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: write });
  for (const [flag, variable, description] of FLAGS)
    program.addOption(new Option(flag, `${description} [${variable}]`));
  for (const k of typeKeys) program.addOption(new Option(k.flag, `${k.description} [${k.variable}]`));
  program.addHelpText('after', '\nEvery flag can also be given as the variable in brackets; the flag wins.');

  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (
      error instanceof CommanderError &&
      (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
    ) {
      return 'help';
    }
    throw new AgentUsageError(error instanceof Error ? error.message : String(error));
  }
  const flags = program.opts<Record<string, string | boolean | undefined>>();
  const merged: NodeJS.ProcessEnv = { ...env };
  const attribute = (flag: string) => new Option(flag).attributeName();
  for (const [flag, variable] of FLAGS)
    if (typeof flags[attribute(flag)] === 'string') merged[variable] = flags[attribute(flag)] as string;
  for (const k of typeKeys)
    if (typeof flags[attribute(k.flag)] === 'string') merged[k.variable] = flags[attribute(k.flag)] as string;

  const config = loadConfig(AgentConfig, merged);
  const once = flags.once === true;
  if (!agentTypes.names().includes(config.RCA_AGENT_TYPE)) {
    throw new AgentUsageError(
      `RCA_AGENT_TYPE: unknown agent type "${config.RCA_AGENT_TYPE}"; known types: ${agentTypes.names().join(', ')}`,
    );
  }
  if (!once) {
    if (!config.RCA_PLATFORM_URL) {
      throw new AgentUsageError(
        'RCA_PLATFORM_URL (--platform-url) is required: the agent enrolls and renews its identity there',
      );
    }
    if (config.RCA_TRANSPORT === 'nats' && !config.RCA_NATS_URL) {
      throw new AgentUsageError('RCA_NATS_URL (--nats-url) is required');
    }
    if (config.RCA_TOKEN && parseToken(config.RCA_TOKEN)?.kind !== 'enrollment') {
      throw new AgentUsageError(
        'RCA_TOKEN: not a valid enrollment token (expected rca_et_… with a correct checksum)',
      );
    }
  }

  return {
    config,
    typeConfig: readTypeConfig(config, merged),
    labels: parseLabels(config.RCA_LABELS),
    collectIntervalSeconds: config.RCA_COLLECT_INTERVAL ?? config.RCA_HEARTBEAT_INTERVAL,
    scrapeTargets: readPluginList(
      config.RCA_SCRAPE_TARGETS,
      ['RCA_SCRAPE_TARGETS_FILE', config.RCA_SCRAPE_TARGETS_FILE],
      'RCA_SCRAPE_TARGETS',
      parseScrapeTargets,
    ),
    statsd: readStatsdAddress(config.RCA_STATSD_ADDRESS),
    plugins: readPluginDirectory(config.RCA_PLUGIN_DIR),
    otlp: readOtlpIntake(config.RCA_OTLP_ADDRESS, config.RCA_OTLP_SETTINGS),
    execPlugins: readPluginList(
      config.RCA_EXEC_PLUGINS,
      ['RCA_EXEC_PLUGINS_FILE', config.RCA_EXEC_PLUGINS_FILE],
      'RCA_EXEC_PLUGINS',
      parseExecPlugins,
    ),
    once,
  };
}

function readPluginDirectory(dir: string | undefined): PluginFile[] {
  if (!dir) return [];
  try {
    return listPluginFiles(dir);
  } catch (error) {
    if (error instanceof PluginDirectoryError) throw new AgentUsageError(error.message);
    throw error;
  }
}

function readStatsdAddress(text: string | undefined): { host: string; port: number } | undefined {
  if (!text) return undefined;
  const address = parseStatsdAddress(text);
  if (!address)
    throw new AgentUsageError(
      'RCA_STATSD_ADDRESS: must be a port or host:port (e.g. 8125 or 127.0.0.1:8125)',
    );
  return address;
}

function readOtlpIntake(address: string | undefined, settings: string | undefined): AgentCommandLine['otlp'] {
  if (!address) {
    if (settings)
      throw new AgentUsageError('RCA_OTLP_SETTINGS: set RCA_OTLP_ADDRESS to turn the OTLP intake on');
    return undefined;
  }
  const at = parseListenAddress(address);
  if (!at)
    throw new AgentUsageError('RCA_OTLP_ADDRESS: must be a port or host:port (e.g. 4318 or 127.0.0.1:4318)');
  let value: unknown;
  try {
    value = settings ? JSON.parse(settings) : undefined;
  } catch (error) {
    throw new AgentUsageError(`RCA_OTLP_SETTINGS: not valid JSON: ${(error as Error).message}`);
  }
  try {
    return { ...at, config: parseOtlpSettings(value, 'RCA_OTLP_SETTINGS') };
  } catch (error) {
    if (error instanceof PluginConfigError) throw new AgentUsageError(error.message);
    throw error;
  }
}

/** A JSON list from its variable, else from the file its _FILE variable names, validated; errors name the entry. */
function readPluginList<T>(
  inline: string | undefined,
  [fileVariable, file]: [string, string | undefined],
  variable: string,
  parse: (value: unknown, source: string) => T[],
): T[] {
  let source = variable;
  let text = inline;
  if (!text && file) {
    source = fileVariable;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new AgentUsageError(`${source}: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  if (!text) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AgentUsageError(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parse(value, source);
  } catch (error) {
    if (error instanceof PluginConfigError) throw new AgentUsageError(error.message);
    throw error;
  }
}

/** The type's keys from RCA_<KEY> (integers converted), validated with defaults applied. */
function readTypeConfig(config: AgentConfig, merged: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = { log_level: config.RCA_LOG_LEVEL };
  const info = agentTypes.types().find((t) => t.type === config.RCA_AGENT_TYPE)!;
  for (const field of info.config) {
    const value = merged[`RCA_${field.name.toUpperCase()}`];
    if (field.name === 'log_level' || value === undefined || value === '') continue;
    raw[field.name] = field.type === 'integer' ? Number(value) : value;
  }
  try {
    return agentTypes.validateConfig(config.RCA_AGENT_TYPE, raw);
  } catch (error) {
    if (!(error instanceof ValidationFailedError)) throw error;
    const lines = (error.errors ?? []).map(
      (e) => `RCA_${e.field.replace(/^config\./, '').toUpperCase()}: ${e.reason}`,
    );
    throw new AgentUsageError(lines.join('\n'));
  }
}

/** `team=sre,zone=eu-1` (already checked against the pattern) → `{ team: 'sre', zone: 'eu-1' }`. */
function parseLabels(labels: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (labels ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
}
