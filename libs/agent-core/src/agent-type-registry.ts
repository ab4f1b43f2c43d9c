import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  AgentTypeInfo,
  flattenValidationErrors,
  UnknownAgentTypeError,
  ValidationFailedError,
} from '@app/contracts';
import {
  AgentTypeDefinition,
  Collector,
  CollectorContext,
  Deployment,
  DeploymentInput,
  describeType,
} from './agent-type';
import type { AgentRuntimeOptions, BaseAgent } from './base-agent';

/** The agent types this build knows. Types register themselves; nothing here names one. */
export class AgentTypeRegistry {
  private readonly definitions = new Map<string, AgentTypeDefinition>();

  register<C extends object>(definition: AgentTypeDefinition<C>): this {
    if (this.definitions.has(definition.type))
      throw new Error(`agent type ${definition.type} is already registered`);
    this.definitions.set(definition.type, definition as unknown as AgentTypeDefinition);
    return this;
  }

  get(type: string): AgentTypeDefinition {
    const definition = this.definitions.get(type);
    if (!definition) throw new UnknownAgentTypeError(type, this.names());
    return definition;
  }

  names(): string[] {
    return [...this.definitions.keys()].sort();
  }

  types(): AgentTypeInfo[] {
    return this.names().map((name) => describeType(this.get(name)));
  }

  /**
   * Validates a type's configuration; returns it with defaults applied. Errors name the field
   * as `config.<name>`; unknown keys are rejected.
   */
  validateConfig(type: string, config: unknown = {}): Record<string, unknown> {
    const definition = this.get(type);
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new ValidationFailedError([{ field: 'config', reason: 'must be an object' }]);
    }
    const instance = plainToInstance(definition.configClass, config, { exposeDefaultValues: true });
    const errors = validateSync(instance, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: false,
    });
    if (errors.length) throw new ValidationFailedError(flattenValidationErrors(errors, 'config'));
    return { ...instance } as Record<string, unknown>;
  }

  buildDeployment(type: string, input: DeploymentInput<unknown>): Deployment {
    const config = this.validateConfig(type, input.config);
    return this.get(type).buildDeployment({ ...input, config });
  }

  /**
   * A ready-to-start agent of `type`: config validated (ValidationFailedError otherwise), collectors built.
   * `pluginCollectors` (scrape targets, exec plugins) run beside the type's own, whatever the type.
   */
  create(
    type: string,
    options: AgentRuntimeOptions & { pluginCollectors?: Collector[] },
    config: unknown,
    context: CollectorContext,
  ): BaseAgent {
    const definition = this.get(type);
    const validated = this.validateConfig(type, config);
    const { pluginCollectors = [], ...runtime } = options;
    const collectors = [...definition.createCollectors(validated, context), ...pluginCollectors];
    return definition.createAgent({ ...runtime, agentType: type, collectors }, validated, context);
  }

  createCollectors(
    type: string,
    config: unknown,
    context: CollectorContext = { environment: {} },
  ): Collector[] {
    return this.get(type).createCollectors(this.validateConfig(type, config), context);
  }
}
