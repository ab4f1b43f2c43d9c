import { IsIn } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';

export const AGENT_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type AgentLogLevel = (typeof AGENT_LOG_LEVELS)[number];

/** Keys every agent type accepts. A type's config class extends this one. */
export class CommonAgentConfig {
  @IsIn(AGENT_LOG_LEVELS as unknown as string[])
  log_level: AgentLogLevel = 'info';
}

export const commonConfigSchema: ConfigFieldSchema[] = [
  {
    name: 'log_level',
    type: 'enum',
    description: 'How much the agent logs.',
    required: false,
    default: 'info',
    enum: [...AGENT_LOG_LEVELS],
  },
];
