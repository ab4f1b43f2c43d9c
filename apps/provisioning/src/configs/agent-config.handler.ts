import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AgentConfigAckReply,
  AgentConfigDocument,
  AgentConfigRequest,
  parseAgentSubject,
  Subjects,
  ValidationFailedError,
} from '@app/contracts';
import { ConfigsService } from './configs.service';

/**
 * `agents.<env>.<agentId>.config`, asked by each agent for itself: NATS permissions let only that agent
 * publish on its subject, so the subject is who asks; the organisation comes from its record.
 */
@Controller()
export class AgentConfigHandler {
  constructor(private readonly configs: ConfigsService) {}

  @MessagePattern(Subjects.configWildcard)
  async handle(
    @Payload() request: AgentConfigRequest,
    @Ctx() context: NatsContext,
  ): Promise<AgentConfigDocument | AgentConfigAckReply> {
    const subject = parseAgentSubject(context.getSubject());
    if (subject?.kind !== 'config')
      throw new ValidationFailedError([{ field: 'subject', reason: 'not a config subject' }]);
    if (request.type === 'fetch') return this.configs.fetchForAgent(subject.environment, subject.agentId);
    await this.configs.recordAck(subject.environment, subject.agentId, request);
    return { recorded: true };
  }
}
