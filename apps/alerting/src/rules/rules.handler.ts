import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AlertRule,
  AlertRuleRefRequest,
  CreateAlertRuleRequest,
  ListAlertRulesRequest,
  Subjects,
  UpdateAlertRuleRequest,
} from '@app/contracts';
import { RulesService } from './rules.service';

@Controller()
export class RulesHandler {
  constructor(private readonly rules: RulesService) {}

  @MessagePattern(Subjects.alerts.listRules)
  list(@Payload() request: ListAlertRulesRequest): Promise<AlertRule[]> {
    return this.rules.list(request.organizationId);
  }

  @MessagePattern(Subjects.alerts.createRule)
  create(@Payload() request: CreateAlertRuleRequest): Promise<AlertRule> {
    return this.rules.create(request.organizationId, request.rule);
  }

  @MessagePattern(Subjects.alerts.updateRule)
  update(@Payload() request: UpdateAlertRuleRequest): Promise<AlertRule> {
    return this.rules.update(request.organizationId, request.ruleId, request.changes);
  }

  @MessagePattern(Subjects.alerts.deleteRule)
  async delete(@Payload() request: AlertRuleRefRequest): Promise<{ deleted: true }> {
    await this.rules.delete(request.organizationId, request.ruleId);
    return { deleted: true };
  }
}
