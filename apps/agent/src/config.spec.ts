import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { formatToken } from '@app/contracts';
import { AgentCommandLine, AgentUsageError, parseAgentCommandLine } from './config';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  let out = '';
  const result = parseAgentCommandLine(argv, env, (t) => (out += t));
  return { result, out };
};
const parsed = (argv: string[], env: NodeJS.ProcessEnv = {}) => parse(argv, env).result as AgentCommandLine;
const token = formatToken('enrollment', randomBytes);
/** Every running agent needs both: NATS for its traffic, the platform for enrollment and renewal. */
const reach = { RCA_NATS_URL: 'nats://n:4222', RCA_PLATFORM_URL: 'https://rca.example.com' };

describe('agent command line', () => {
  it('reads RCA_* variables with the contract defaults', () => {
    const { config, collectIntervalSeconds, typeConfig, once } = parsed([], { ...reach, RCA_TOKEN: token });
    expect(config).toMatchObject({
      RCA_AGENT_TYPE: 'server',
      RCA_HEARTBEAT_INTERVAL: 10,
      RCA_STATE_DIR: './data/agent',
      RCA_LOG_LEVEL: 'info',
    });
    expect(collectIntervalSeconds).toBe(10);
    expect(typeConfig).toEqual({ log_level: 'info' });
    expect(once).toBe(false);
  });

  it('lets flags override variables, type config keys included', () => {
    const cli = parsed(
      [
        '--type',
        'kubernetes',
        '--scope',
        'namespace',
        '--namespace',
        'team-a',
        '--replicas',
        '2',
        '--collect-interval',
        '5',
        '--log-level',
        'debug',
      ],
      {
        ...reach,
        RCA_AGENT_TYPE: 'docker',
        RCA_NAMESPACE: 'other',
        RCA_LABELS: 'team=sre,zone=eu-1',
      },
    );
    expect(cli.config.RCA_AGENT_TYPE).toBe('kubernetes');
    expect(cli.typeConfig).toEqual({
      log_level: 'debug',
      namespace: 'team-a',
      release_name: 'rca-agent',
      replicas: 2,
      scope: 'namespace',
      scrape_pods: 'off',
    });
    expect(cli.collectIntervalSeconds).toBe(5);
    expect(cli.labels).toEqual({ team: 'sre', zone: 'eu-1' });
  });

  it('needs no NATS URL with the HTTP transport', () => {
    const { config } = parsed([], { RCA_TRANSPORT: 'http', RCA_PLATFORM_URL: 'https://rca.example.com' });
    expect(config.RCA_TRANSPORT).toBe('http');
  });

  it('needs neither NATS nor a token for --once', () => {
    expect(parsed(['--once']).once).toBe(true);
  });

  it('reads scrape targets from RCA_SCRAPE_TARGETS with their defaults', () => {
    const { scrapeTargets } = parsed(['--once'], {
      RCA_SCRAPE_TARGETS: JSON.stringify([{ url: 'http://127.0.0.1:9100/metrics', job: 'node' }]),
    });
    expect(scrapeTargets).toEqual([
      expect.objectContaining({
        url: 'http://127.0.0.1:9100/metrics',
        job: 'node',
        timeout: 5,
        max_series: 10_000,
        max_bytes: 4 * 1024 * 1024,
      }),
    ]);
  });

  it('reads scrape targets from the file RCA_SCRAPE_TARGETS_FILE names', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rca-cfg-')), 'targets.json');
    writeFileSync(file, JSON.stringify([{ url: 'https://app:8443/metrics', tls: { ca_file: '/ca.pem' } }]));
    expect(parsed(['--once'], { RCA_SCRAPE_TARGETS_FILE: file }).scrapeTargets[0].tls).toEqual({
      ca_file: '/ca.pem',
    });
  });

  it.each([
    ['[{"url": "ftp://x"}]', /RCA_SCRAPE_TARGETS\[0\]\.url: url must be an http:\/\/ or https:\/\/ URL/],
    [
      '[{"url": "http://a/m", "timeout": 30, "interval": 10}]',
      /RCA_SCRAPE_TARGETS\[0\]\.timeout: must not be longer than interval/,
    ],
    [
      '[{"url": "http://a/m", "insecure": true}]',
      /RCA_SCRAPE_TARGETS\[0\]\.insecure: property insecure should not exist/,
    ],
    [
      '[{"url": "http://a/m"}, {"url": "http://a/m"}]',
      /RCA_SCRAPE_TARGETS\[1\]\.job: "http:\/\/a\/m" is already used/,
    ],
    ['{"url": "http://a/m"}', /RCA_SCRAPE_TARGETS: must be a JSON array/],
    [
      `[{"url": "http://a/${'m'.repeat(80)}"}]`,
      /RCA_SCRAPE_TARGETS\[0\]\.job: required when url is longer than 80/,
    ],
    ['[{url:', /RCA_SCRAPE_TARGETS: not valid JSON/],
    [
      '[{"url": "http://a/m", "labels": {"bad-key": "x"}}]',
      /RCA_SCRAPE_TARGETS\[0\]\.labels: labels must map label names to strings/,
    ],
    [
      '[{"url": "http://a/m", "max_series": 50001}]',
      /RCA_SCRAPE_TARGETS\[0\]\.max_series: max_series must not be greater than 50000/,
    ],
    [
      '[{"url": "http://a/m", "max_bytes": 67108865}]',
      /RCA_SCRAPE_TARGETS\[0\]\.max_bytes: max_bytes must not be greater than 67108864/,
    ],
  ])('refuses RCA_SCRAPE_TARGETS=%s naming the field', (value, message) => {
    expect(() => parsed(['--once'], { RCA_SCRAPE_TARGETS: value })).toThrow(AgentUsageError);
    expect(() => parsed(['--once'], { RCA_SCRAPE_TARGETS: value })).toThrow(message);
  });

  it('reads exec plugins from RCA_EXEC_PLUGINS and names a bad entry', () => {
    const { execPlugins } = parsed(['--once'], {
      RCA_EXEC_PLUGINS: JSON.stringify([{ name: 'queues', command: ['/usr/local/bin/queues', '--all'] }]),
    });
    expect(execPlugins).toEqual([
      expect.objectContaining({ name: 'queues', shell: false, format: 'influx', timeout: 5 }),
    ]);
    expect(() => parsed(['--once'], { RCA_EXEC_PLUGINS: '[{"name": "q"}]' })).toThrow(
      /RCA_EXEC_PLUGINS\[0\]\.command: required/,
    );
  });

  it('holds exec plugins to the shared label and series checks and to their own, smaller max_bytes bound', () => {
    const plugin = (extra: object) => JSON.stringify([{ name: 'q', command: ['/bin/q'], ...extra }]);
    expect(parsed(['--once'], { RCA_EXEC_PLUGINS: plugin({}) }).execPlugins[0].max_series).toBe(10_000);
    expect(() => parsed(['--once'], { RCA_EXEC_PLUGINS: plugin({ labels: { team: 5 } }) })).toThrow(
      /RCA_EXEC_PLUGINS\[0\]\.labels: labels must map label names to strings/,
    );
    // 64 MiB is a valid scrape max_bytes, not an exec one (16 MiB).
    expect(() => parsed(['--once'], { RCA_EXEC_PLUGINS: plugin({ max_bytes: 64 * 1024 * 1024 }) })).toThrow(
      /RCA_EXEC_PLUGINS\[0\]\.max_bytes: max_bytes must not be greater than 16777216/,
    );
  });

  it('leaves the OTLP intake off unless RCA_OTLP_ADDRESS is set, then on 127.0.0.1 with its defaults', () => {
    expect(parsed(['--once']).otlp).toBeUndefined();
    expect(parsed(['--once'], { RCA_OTLP_ADDRESS: '4318' }).otlp).toEqual({
      host: '127.0.0.1',
      port: 4318,
      config: expect.objectContaining({ max_series: 10_000, max_bytes: 4 * 1024 * 1024 }),
    });
    const otlp = parsed(['--once'], {
      RCA_OTLP_ADDRESS: '0.0.0.0:4318',
      RCA_OTLP_SETTINGS: '{"max_series": 500, "deny": ["debug_*"], "labels": {"team": "shop"}}',
    }).otlp;
    expect(otlp).toMatchObject({
      host: '0.0.0.0',
      config: { max_series: 500, deny: ['debug_*'], labels: { team: 'shop' } },
    });
  });

  it.each([
    [{ RCA_OTLP_ADDRESS: 'localhost:99999' }, /RCA_OTLP_ADDRESS: must be a port or host:port/],
    [{ RCA_OTLP_ADDRESS: '4318', RCA_OTLP_SETTINGS: '[]' }, /RCA_OTLP_SETTINGS: must be a JSON object/],
    [
      { RCA_OTLP_ADDRESS: '4318', RCA_OTLP_SETTINGS: '{"max_bytes": 100}' },
      /RCA_OTLP_SETTINGS\.max_bytes: max_bytes must not be less than 1024/,
    ],
    [
      { RCA_OTLP_ADDRESS: '4318', RCA_OTLP_SETTINGS: '{"port": 1}' },
      /RCA_OTLP_SETTINGS\.port: property port should not exist/,
    ],
    [{ RCA_OTLP_SETTINGS: '{}' }, /RCA_OTLP_SETTINGS: set RCA_OTLP_ADDRESS/],
  ])('refuses OTLP settings %j naming the variable', (env, message) => {
    expect(() => parsed(['--once'], env)).toThrow(message);
  });

  it('leaves StatsD off unless RCA_STATSD_ADDRESS is set, and then listens on 127.0.0.1 by default', () => {
    expect(parsed(['--once']).statsd).toBeUndefined();
    expect(parsed(['--once'], { RCA_STATSD_ADDRESS: '8125' }).statsd).toEqual({
      host: '127.0.0.1',
      port: 8125,
    });
    expect(() => parsed(['--once'], { RCA_STATSD_ADDRESS: 'udp://x' })).toThrow(
      /RCA_STATSD_ADDRESS: must be/,
    );
  });

  it('loads no plugin unless RCA_PLUGIN_DIR is set, and refuses a directory others may write to', () => {
    expect(parsed(['--once']).plugins).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'rca-plugin-dir-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'queue.js'), 'module.exports = {}', { mode: 0o644 });
    expect(parsed(['--once'], { RCA_PLUGIN_DIR: dir }).plugins).toEqual([
      { name: 'queue', path: join(dir, 'queue.js') },
    ]);
    chmodSync(dir, 0o777);
    expect(() => parsed(['--once'], { RCA_PLUGIN_DIR: dir })).toThrow(AgentUsageError);
    expect(() => parsed(['--once'], { RCA_PLUGIN_DIR: dir })).toThrow(
      /^RCA_PLUGIN_DIR: the plugin directory .* is writable by group or others \(mode 0777\); no plugin is loaded from it$/,
    );
  });

  it('prints help and says so instead of running', () => {
    const { result, out } = parse(['--help']);
    expect(result).toBe('help');
    expect(out).toContain('--nats-url <urls>');
    expect(out).toContain('[RCA_NATS_URL]');
  });

  it.each([
    [
      ['--type', 'mainframe'],
      { RCA_NATS_URL: 'nats://n:4222' },
      AgentUsageError,
      /unknown agent type "mainframe"; known types: aci, cloud-run, docker, kubernetes, lambda, nomad, server, ssh/,
    ],
    [
      [],
      { RCA_PLATFORM_URL: 'https://rca.example.com' },
      AgentUsageError,
      /RCA_NATS_URL \(--nats-url\) is required/,
    ],
    [
      [],
      { RCA_NATS_URL: 'nats://n:4222' },
      AgentUsageError,
      /RCA_PLATFORM_URL \(--platform-url\) is required/,
    ],
    [[], { ...reach, RCA_CA_PIN: 'sha256:abc' }, ConfigError, /RCA_CA_PIN: must be sha256: followed by 64/],
    [['--nats-url', 'http://n:4222'], {}, ConfigError, /RCA_NATS_URL: must be one or more nats:\/\/ URLs/],
    [
      ['--heartbeat-interval', '0.5'],
      { RCA_NATS_URL: 'nats://n' },
      ConfigError,
      /RCA_HEARTBEAT_INTERVAL: must be a whole number of seconds/,
    ],
    [[], { ...reach, RCA_TOKEN: 'rca_et_wrong' }, AgentUsageError, /RCA_TOKEN: not a valid enrollment token/],
    [
      ['--type', 'docker', '--docker-host', 'ftp://x'],
      reach,
      AgentUsageError,
      /RCA_DOCKER_HOST: docker_host must be/,
    ],
    [[], { RCA_TRANSPORT: 'http' }, AgentUsageError, /RCA_PLATFORM_URL \(--platform-url\) is required/],
    [[], { RCA_TRANSPORT: 'grpc' }, Error, /RCA_TRANSPORT: must be "nats" or "http"/],
    [['--bogus'], {}, AgentUsageError, /unknown option '--bogus'/],
  ])('refuses %j %j with a message naming the problem', (argv, env, errorClass, message) => {
    expect(() => parse(argv as string[], env as NodeJS.ProcessEnv)).toThrow(errorClass as typeof Error);
    expect(() => parse(argv as string[], env as NodeJS.ProcessEnv)).toThrow(message as RegExp);
  });
});
