import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { ErrorCodes, UnknownAgentTypeError, ValidationFailedError } from '@app/contracts';
import pino from 'pino';
import { AgentTypeDefinition } from './agent-type';
import { AgentTypeRegistry } from './agent-type-registry';
import { BaseAgent } from './base-agent';
import { agentTypes, builtinAgentTypes, createBuiltinRegistry } from './builtin-agent-types';
import { CommonAgentConfig, commonConfigSchema } from './common-config';

class PingConfig extends CommonAgentConfig {
  @IsInt()
  @Min(1)
  @Max(5)
  count: number = 3;
}

/** A fourth type, defined entirely outside the core: the registry needs no change to run it. */
const pingType: AgentTypeDefinition<PingConfig> = {
  type: 'ping',
  displayName: 'Ping',
  description: 'Counts to `count`.',
  platforms: ['any'],
  configClass: PingConfig,
  configSchema: [
    ...commonConfigSchema,
    { name: 'count', type: 'integer', description: 'n', required: false, default: 3 },
  ],
  metrics: [{ name: 'ping.count', unit: '1', description: 'the count' }],
  buildDeployment: (input) => ({
    commands: [{ platform: 'any', shell: 'sh', command: `ping ${input.config.count}` }],
    instructions: [],
  }),
  createCollectors: (config) => [
    { name: 'ping', collect: async () => [{ name: 'ping.count', value: config.count }] },
  ],
  createAgent: (options) => new BaseAgent(options),
};

describe(AgentTypeRegistry.name, () => {
  it('knows the built-in types', () => {
    expect(agentTypes.names()).toEqual([
      'aci',
      'cloud-run',
      'docker',
      'kubernetes',
      'lambda',
      'nomad',
      'server',
      'ssh',
    ]);
    expect(agentTypes.types().map((t) => t.displayName)).toEqual([
      'Azure Container Instances',
      'Google Cloud Run service',
      'Docker host',
      'Kubernetes cluster',
      'AWS Lambda function',
      'Nomad cluster',
      'Server',
      'SSH targets (agentless)',
    ]);
  });

  it('rejects an unknown type with a typed error listing the known ones', () => {
    expect(() => agentTypes.get('vm')).toThrow(UnknownAgentTypeError);
    expect(() => agentTypes.get('vm')).toThrow(
      'known types: aci, cloud-run, docker, kubernetes, lambda, nomad, server, ssh',
    );
  });

  it('applies defaults and names each bad field as config.<key>', () => {
    expect(agentTypes.validateConfig('kubernetes', {})).toEqual({
      log_level: 'info',
      namespace: 'rca-agent',
      release_name: 'rca-agent',
      replicas: 1,
      scope: 'cluster',
      scrape_pods: 'off',
    });
    try {
      agentTypes.validateConfig('kubernetes', {
        namespace: 'Not_A_Label',
        replicas: 0,
        scope: 'galaxy',
        log_level: 'loud',
        extra: 1,
      });
      throw new Error('expected a validation error');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationFailedError);
      expect((error as ValidationFailedError).code).toBe(ErrorCodes.VALIDATION_FAILED);
      expect((error as ValidationFailedError).errors!.map((e) => e.field).sort()).toEqual([
        'config.extra',
        'config.log_level',
        'config.namespace',
        'config.replicas',
        'config.scope',
      ]);
    }
  });

  it('rejects a config that is not an object', () => {
    expect(() => agentTypes.validateConfig('server', 'x')).toThrow(ValidationFailedError);
  });

  it.each(builtinAgentTypes.map((d) => [d.type, d] as const))(
    'describes the %s config with the defaults its class applies',
    (_, definition) => {
      const defaults = {
        ...plainToInstance(definition.configClass, {}, { exposeDefaultValues: true }),
      } as Record<string, unknown>;
      for (const field of definition.configSchema)
        expect([field.name, field.default]).toEqual([field.name, defaults[field.name]]);
      expect(Object.keys(defaults).sort()).toEqual(definition.configSchema.map((f) => f.name).sort());
    },
  );

  it('documents every declared metric in docs/agent.md', () => {
    const docs = readFileSync(join(__dirname, '../../../docs/agent.md'), 'utf8');
    const missing = agentTypes
      .types()
      .flatMap((t) => t.metrics.map((m) => m.name))
      .filter((name) => !docs.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('marks the always-1 info metrics as info, so the dashboard does not offer them as charts', () => {
    // Types may share a name (ssh targets report the server type's metrics): each is one metric.
    const info = [
      ...new Set(agentTypes.types().flatMap((t) => t.metrics.filter((m) => m.info).map((m) => m.name))),
    ].sort();
    expect(info).toEqual(['docker.daemon.info', 'system.os.info']);
  });

  it('declares every metric once per type', () => {
    for (const type of agentTypes.types())
      expect(new Set(type.metrics.map((m) => m.name)).size).toBe(type.metrics.length);
  });

  it('runs a new type registered from outside the core, through the same create/buildDeployment calls', async () => {
    const registry = createBuiltinRegistry().register(pingType);
    expect(registry.names()).toContain('ping');
    expect(
      registry.buildDeployment('ping', {
        platformUrl: '',
        natsUrl: '',
        enrollmentToken: '',
        environment: 'e',
        config: { count: 5 },
        agentImage: '',
      }).commands[0].command,
    ).toBe('ping 5');
    const agent = registry.create(
      'ping',
      {
        natsUrl: 'nats://127.0.0.1:1',
        stateDir: '/nonexistent',
        heartbeatIntervalSeconds: 1,
        collectIntervalSeconds: 1,
        logger: pino({ level: 'silent' }),
      },
      { count: 2 },
      { environment: {} },
    );
    expect((await agent.collectOnce()).samples).toEqual([
      expect.objectContaining({ name: 'ping.count', value: 2 }),
    ]);
  });

  it('refuses to register a type name twice', () => {
    expect(() => createBuiltinRegistry().register(pingType).register(pingType)).toThrow(/already registered/);
  });
});
