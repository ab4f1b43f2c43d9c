import { Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  Alert,
  AlertChannel,
  AlertChannelChanges,
  AlertChannelInput,
  AlertDelivery,
  AlertRule,
  AlertRuleChanges,
  AlertRuleInput,
  AlertsQuery,
  ChannelTestResult,
  CreatedAlertChannel,
  DeliveriesQuery,
  NotFoundError,
  Page,
  Subjects,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { AgentNames } from '../agents/agent-names';
import { apiKeyActor } from '../agents/fleet.client';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ApiJsonBody, ApiQueries } from '../http/openapi.decorators';
import { ValidBody, ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import {
  AlertChannelBody,
  AlertChannelChangesBody,
  AlertChannelList,
  AlertPage,
  AlertRuleBody,
  AlertRuleChangesBody,
  AlertRuleList,
  AlertRuleView,
  AlertsQueryDoc,
  AlertChannelView,
  AlertView,
  ChannelTestResultView,
  CreatedAlertChannelView,
  DeliveriesQueryDoc,
  DeliveryPage,
} from './alerts.dto';

const CHANNEL_ID = '7d1c5a3e-2b4f-4e6a-9c8d-1f0e2d3c4b5a';

/** Rule and channel ids are UUIDs; anything else cannot exist, so it is not found rather than a field error. */
function idParam(what: string, id: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new NotFoundError(`${what} ${id}`);
  return id;
}

/** Alert rules, notification channels, alerts and the delivery log; the alerting service owns them all. */
@ApiTags('alerts')
@ApiKeyAuth()
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly names: AgentNames,
  ) {}

  @Get('rules')
  @ApiOperation({ summary: "List the organisation's alert rules" })
  @ApiOkResponse({ type: AlertRuleList, description: 'Every rule (not paginated)' })
  async listRules(@CurrentOrg() auth: AuthContext) {
    const rules = await this.rpc.request<AlertRule[]>(Subjects.alerts.listRules, {
      organizationId: auth.organizationId,
    });
    return toSnakeCaseKeys({ items: rules });
  }

  @Post('rules')
  @ApiOperation({
    summary: 'Create a rule: agent_offline (offline_seconds), agent_revoked, enrollment_failures',
  })
  @ApiJsonBody(
    AlertRuleBody,
    {
      name: 'prod agents offline',
      kind: 'agent_offline',
      environment: 'prod-1',
      offline_seconds: 300,
      channel_ids: [CHANNEL_ID],
    },
    {
      description:
        'name, kind, channel_ids, optional scope (environment, agent_type, label) and the parameters of its kind',
    },
  )
  @ApiCreatedResponse({ type: AlertRuleView, description: 'The rule' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  async createRule(@CurrentOrg() auth: AuthContext, @ValidBody() rule: AlertRuleInput) {
    return toSnakeCaseKeys(
      await this.rpc.request<AlertRule>(Subjects.alerts.createRule, {
        organizationId: auth.organizationId,
        rule,
      }),
    );
  }

  @Patch('rules/:id')
  @ApiOperation({ summary: 'Change a rule (any field but kind; null clears a scope field)' })
  @ApiJsonBody(AlertRuleChangesBody, { offline_seconds: 600, label: null })
  @ApiOkResponse({ type: AlertRuleView, description: 'The rule' })
  @ApiBadRequestResponse({ description: 'A field is invalid; `errors` names it' })
  @ApiNotFoundResponse({ description: 'No such rule in this organisation' })
  async updateRule(
    @CurrentOrg() auth: AuthContext,
    @Param('id') ruleId: string,
    @ValidBody() changes: AlertRuleChanges,
  ) {
    return toSnakeCaseKeys(
      await this.rpc.request<AlertRule>(Subjects.alerts.updateRule, {
        organizationId: auth.organizationId,
        ruleId: idParam('alert rule', ruleId),
        changes,
      }),
    );
  }

  @Delete('rules/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a rule (its pending alerts are dropped)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such rule in this organisation' })
  async deleteRule(@CurrentOrg() auth: AuthContext, @Param('id') ruleId: string): Promise<void> {
    await this.rpc.request(Subjects.alerts.deleteRule, {
      organizationId: auth.organizationId,
      ruleId: idParam('alert rule', ruleId),
    });
  }

  @Get('channels')
  @ApiOperation({ summary: 'List notification channels (secrets are never shown again)' })
  @ApiOkResponse({ type: AlertChannelList, description: 'Every channel, URLs masked (not paginated)' })
  async listChannels(@CurrentOrg() auth: AuthContext) {
    const channels = await this.rpc.request<AlertChannel[]>(Subjects.alerts.listChannels, {
      organizationId: auth.organizationId,
    });
    return toSnakeCaseKeys({ items: channels });
  }

  @Post('channels')
  @ApiOperation({
    summary: 'Create a webhook or Slack channel; the response carries the signing secret, once',
  })
  @ApiJsonBody(AlertChannelBody, {
    name: 'on-call webhook',
    type: 'webhook',
    url: 'https://hooks.example.com/rca',
  })
  @ApiCreatedResponse({
    type: CreatedAlertChannelView,
    description: 'The channel with `secret` and its whole URL',
  })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  async createChannel(@CurrentOrg() auth: AuthContext, @ValidBody() channel: AlertChannelInput) {
    return toSnakeCaseKeys(
      await this.rpc.request<CreatedAlertChannel>(Subjects.alerts.createChannel, {
        organizationId: auth.organizationId,
        channel,
      }),
    );
  }

  @Patch('channels/:id')
  @ApiOperation({ summary: 'Rename or re-point a channel (name, url); its type and secret stay' })
  @ApiJsonBody(AlertChannelChangesBody, { url: 'https://hooks.example.com/rca-v2' })
  @ApiOkResponse({ type: AlertChannelView, description: 'The channel, its URL masked' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  @ApiNotFoundResponse({ description: 'No such channel in this organisation' })
  async updateChannel(
    @CurrentOrg() auth: AuthContext,
    @Param('id') channelId: string,
    @ValidBody() changes: AlertChannelChanges,
  ) {
    return toSnakeCaseKeys(
      await this.rpc.request<AlertChannel>(Subjects.alerts.updateChannel, {
        organizationId: auth.organizationId,
        channelId: idParam('channel', channelId),
        changes,
      }),
    );
  }

  @Delete('channels/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a channel (its undelivered notifications fail)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such channel in this organisation' })
  async deleteChannel(@CurrentOrg() auth: AuthContext, @Param('id') channelId: string): Promise<void> {
    await this.rpc.request(Subjects.alerts.deleteChannel, {
      organizationId: auth.organizationId,
      channelId: idParam('channel', channelId),
    });
  }

  @Post('channels/:id/test')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send one signed test notification to a channel now; the answer is how it went (not retried)',
  })
  @ApiOkResponse({ type: ChannelTestResultView, description: 'How the one attempt went' })
  @ApiNotFoundResponse({ description: 'No such channel in this organisation' })
  async testChannel(@CurrentOrg() auth: AuthContext, @Param('id') channelId: string) {
    return toSnakeCaseKeys(
      await this.rpc.request<ChannelTestResult>(Subjects.alerts.testChannel, {
        organizationId: auth.organizationId,
        channelId: idParam('channel', channelId),
      }),
    );
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Acknowledge an open alert: it keeps firing, marked with your API key and the time',
  })
  @ApiOkResponse({ type: AlertView, description: 'The alert' })
  @ApiNotFoundResponse({ description: 'No such alert in this organisation' })
  @ApiConflictResponse({ description: 'The alert is resolved or cancelled' })
  async acknowledge(@CurrentOrg() auth: AuthContext, @Param('id') alertId: string) {
    return toSnakeCaseKeys(
      await this.rpc.request<Alert>(Subjects.alerts.acknowledge, {
        organizationId: auth.organizationId,
        alertId: idParam('alert', alertId),
        actor: apiKeyActor(auth.apiKeyId),
      }),
    );
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Resolve an alert by hand: a firing one is resolved (channels are told), a pending one cancelled',
  })
  @ApiOkResponse({ type: AlertView, description: 'The alert' })
  @ApiNotFoundResponse({ description: 'No such alert in this organisation' })
  @ApiConflictResponse({ description: 'The alert is already resolved or cancelled' })
  async resolve(@CurrentOrg() auth: AuthContext, @Param('id') alertId: string) {
    return toSnakeCaseKeys(
      await this.rpc.request<Alert>(Subjects.alerts.resolve, {
        organizationId: auth.organizationId,
        alertId: idParam('alert', alertId),
        actor: apiKeyActor(auth.apiKeyId),
      }),
    );
  }

  @Get('deliveries')
  @ApiOperation({
    summary:
      'The delivery log: each notification, its status and every attempt (filter: alert_id, channel_id, status)',
  })
  @ApiQueries(DeliveriesQueryDoc)
  @ApiOkResponse({ type: DeliveryPage, description: 'One page of deliveries, newest first' })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid; `errors` names it' })
  async listDeliveries(@CurrentOrg() auth: AuthContext, @ValidQuery() query: DeliveriesQuery) {
    return toSnakeCaseKeys(
      await this.rpc.request<Page<AlertDelivery>>(Subjects.alerts.listDeliveries, {
        organizationId: auth.organizationId,
        query,
      }),
    );
  }

  @Get()
  @ApiOperation({ summary: 'Alerts, newest first (state: pending, firing, resolved, cancelled)' })
  @ApiQueries(AlertsQueryDoc)
  @ApiOkResponse({ type: AlertPage, description: 'One page of alerts' })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid; `errors` names it' })
  async list(@CurrentOrg() auth: AuthContext, @ValidQuery() query: AlertsQuery) {
    const page = await this.rpc.request<Page<Alert>>(Subjects.alerts.list, {
      organizationId: auth.organizationId,
      query,
    });
    const hostnames = await this.names.hostnames(
      auth.organizationId,
      page.items.map((a) => a.agentId),
    );
    const items = page.items.map((a) => ({
      ...a,
      agentHostname: a.agentId ? (hostnames.get(a.agentId) ?? null) : null,
    }));
    return toSnakeCaseKeys({ ...page, items });
  }
}
