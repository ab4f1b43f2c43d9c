import { Controller, Delete, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  AgentRecord,
  AgentRefRequest,
  BulkAgentsRequest,
  BulkAgentsResult,
  ReenrollAllowance,
  Subjects,
  UpdateAgentLabelsRequest,
  labelProblems,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ApiJsonBody } from '../http/openapi.decorators';
import { RequestFieldsError, ValidBody } from '../http/validation.pipe';
import { toSettings } from '../configs/configs.dto';
import { toSnakeCaseKeys } from '../live/snake-case';
import {
  BULK_DOC,
  BulkAgentsBody,
  BulkResultView,
  checkLabelChanges,
  LabelChangesBody,
  ReenrollAllowanceView,
} from './agent-lifecycle.dto';
import { agentIdParam } from './agents.controller';
import { AgentView } from './agents.dto';
import { apiKeyActor } from './fleet.client';

/** A bulk request changes each agent on its own (a revocation waits for NATS): more time than one call. */
const BULK_TIMEOUT_MS = 60_000;

/** An agent's lifecycle after enrollment: labels, deletion, re-enrollment, bulk actions. */
@ApiTags('agents')
@ApiKeyAuth()
@Controller('api/v1/agents')
export class AgentLifecycleController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('bulk')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Revoke, relabel or configure every agent a filter selects (dry_run: count them only)',
    description: `${BULK_DOC}. Each agent is changed and audited on its own; the answer counts done and failed.`,
  })
  @ApiJsonBody(BulkAgentsBody, {
    action: 'relabel',
    filter: { environment: 'prod-1', label: 'team=payments' },
    labels: { set: { tier: 'gold' }, remove: ['canary'] },
    dry_run: true,
  })
  @ApiOkResponse({ type: BulkResultView, description: 'What was selected and what was done' })
  @ApiBadRequestResponse({ description: 'A field is invalid, or the filter selects too many agents' })
  async bulk(@CurrentOrg() auth: AuthContext, @ValidBody() body: BulkAgentsBody) {
    if (body.labels) checkLabelChanges(body.labels, 'labels');
    const configProblems = labelProblems(body.config?.labels, 'config.labels');
    if (configProblems.length) throw new RequestFieldsError(configProblems);
    const result = await this.rpc.request<BulkAgentsResult, BulkAgentsRequest>(
      Subjects.fleet.bulk,
      {
        organizationId: auth.organizationId,
        action: body.action,
        filter: body.filter,
        labels: body.labels,
        config: body.config && toSettings(body.config),
        dryRun: body.dry_run,
        actor: apiKeyActor(auth.apiKeyId),
      },
      { timeoutMs: BULK_TIMEOUT_MS },
    );
    return toSnakeCaseKeys(result);
  }

  @Patch(':id/labels')
  @ApiOperation({ summary: "Edit an agent's labels: `set` adds or overwrites, `remove` drops keys" })
  @ApiJsonBody(LabelChangesBody, { set: { team: 'payments' }, remove: ['canary'] })
  @ApiOkResponse({ type: AgentView, description: 'The agent with its new labels' })
  @ApiBadRequestResponse({ description: 'A label is invalid; `errors` names it' })
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  async updateLabels(
    @CurrentOrg() auth: AuthContext,
    @Param('id') id: string,
    @ValidBody() body: LabelChangesBody,
  ) {
    checkLabelChanges(body, '');
    const agent = await this.rpc.request<AgentRecord, UpdateAgentLabelsRequest>(Subjects.fleet.updateLabels, {
      organizationId: auth.organizationId,
      agentId: agentIdParam(id),
      changes: { set: body.set, remove: body.remove },
      actor: apiKeyActor(auth.apiKeyId),
    });
    return toSnakeCaseKeys(agent);
  }

  @Delete(':id/record')
  @HttpCode(204)
  @ApiOperation({
    summary: "Delete a revoked agent's record (its audit entries stay; its metrics age out with retention)",
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  @ApiConflictResponse({
    description: 'The agent is not revoked: revoke it first (DELETE /api/v1/agents/:id)',
  })
  async delete(@CurrentOrg() auth: AuthContext, @Param('id') id: string): Promise<void> {
    await this.rpc.request<unknown, AgentRefRequest>(Subjects.fleet.delete, {
      organizationId: auth.organizationId,
      agentId: agentIdParam(id),
      actor: apiKeyActor(auth.apiKeyId),
    });
  }

  @Post(':id/allow-reenroll')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Let a revoked agent's host enroll once more: it becomes a new agent, the revoked one stays revoked",
  })
  @ApiOkResponse({ type: ReenrollAllowanceView, description: 'The allowance (asking again changes nothing)' })
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  @ApiConflictResponse({ description: 'The agent is not revoked, or no longer holds its host' })
  async allowReenroll(@CurrentOrg() auth: AuthContext, @Param('id') id: string) {
    const allowance = await this.rpc.request<ReenrollAllowance, AgentRefRequest>(
      Subjects.fleet.allowReenroll,
      {
        organizationId: auth.organizationId,
        agentId: agentIdParam(id),
        actor: apiKeyActor(auth.apiKeyId),
      },
    );
    return toSnakeCaseKeys(allowance);
  }
}
