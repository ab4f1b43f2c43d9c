import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { PageRequest } from './pagination';
import { AGENT_ID_PATTERN, ENVIRONMENT_NAME_PATTERN } from './subjects';

/**
 * What a rule watches. `ingestion_rejects` is not offered: ingestion's counters are
 * platform-wide, so a per-organisation rule over them would show one tenant another's traffic.
 */
export const AlertRuleKinds = [
  'agent_offline',
  'agent_revoked',
  'agent_degraded',
  'agent_stopped',
  'enrollment_failures',
] as const;
export type AlertRuleKind = (typeof AlertRuleKinds)[number];

/** `webhook`: our JSON body; `slack`: Slack incoming-webhook `{ text, blocks }`. Both are signed. */
export const AlertChannelTypes = ['webhook', 'slack'] as const;
export type AlertChannelType = (typeof AlertChannelTypes)[number];

/** pending: waiting out the rule's delay (offline for N); cancelled: the agent came back first. */
export const AlertStates = ['pending', 'firing', 'resolved', 'cancelled'] as const;
export type AlertState = (typeof AlertStates)[number];

export const DeliveryStatuses = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DeliveryStatuses)[number];

/** Which state change a notification announces. */
export type AlertTransition = 'firing' | 'resolved';

/** `key=value`, the same label filter the fleet list takes. */
export const LABEL_SELECTOR_PATTERN = /^[A-Za-z0-9_./-]{1,100}=[^\s=]{0,200}$/;

/** Header carrying `t=<unix seconds>,v1=<hex>`: see webhook-signature.ts. */
export const ALERT_SIGNATURE_HEADER = 'X-Rca-Signature';
/** Header carrying the delivery id: the same on every retry, so a receiver can drop a repeat. */
export const ALERT_DELIVERY_HEADER = 'X-Rca-Delivery';

const MAX_OFFLINE_SECONDS = 7 * 86400;

/** The fields a rule's scope and parameters share between create and update (HTTP body names). */
class AlertRuleFields {
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** Only this environment's agents. */
  @IsOptional()
  @Matches(ENVIRONMENT_NAME_PATTERN, { message: 'environment must be lowercase letters, digits and dashes' })
  environment?: string;

  /** Only agents of this type (`docker`, `kubernetes`, `server`). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  agent_type?: string;

  /** Only agents carrying this label, `key=value`. */
  @IsOptional()
  @Matches(LABEL_SELECTOR_PATTERN, { message: 'label must be key=value' })
  label?: string;
}

/** `POST /api/v1/alerts/rules` body; also the `rule` of CreateAlertRuleRequest. */
export class AlertRuleInput extends AlertRuleFields {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @IsIn(AlertRuleKinds as unknown as string[], {
    message: `kind must be one of: ${AlertRuleKinds.join(', ')}`,
  })
  kind!: AlertRuleKind;

  /** agent_offline: notify when the agent is still offline this long after going offline. */
  @ValidateIf((o: AlertRuleInput) => o.kind === 'agent_offline' || o.offline_seconds !== undefined)
  @IsInt()
  @Min(1)
  @Max(MAX_OFFLINE_SECONDS)
  offline_seconds?: number;

  /** enrollment_failures: fire when at least `threshold` failures happen within `window_seconds`. */
  @ValidateIf((o: AlertRuleInput) => o.kind === 'enrollment_failures' || o.threshold !== undefined)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  threshold?: number;

  @ValidateIf((o: AlertRuleInput) => o.kind === 'enrollment_failures' || o.window_seconds !== undefined)
  @IsInt()
  @Min(10)
  @Max(86400)
  window_seconds?: number;

  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(64, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  channel_ids!: string[];
}

/** `PATCH /api/v1/alerts/rules/:id` body: any field but `kind`; `null` clears a scope field (environment, agent_type, label). */
export class AlertRuleChanges extends AlertRuleFields {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_OFFLINE_SECONDS)
  offline_seconds?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  threshold?: number;

  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86400)
  window_seconds?: number;

  @IsOptional()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(64, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  channel_ids?: string[];
}

/** `POST /api/v1/alerts/channels` body. */
export class AlertChannelInput {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @IsIn(AlertChannelTypes as unknown as string[], {
    message: `type must be one of: ${AlertChannelTypes.join(', ')}`,
  })
  type!: AlertChannelType;

  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'url must be an http(s) URL' },
  )
  @MaxLength(2000)
  url!: string;
}

/** `PATCH /api/v1/alerts/channels/:id` body: a new name or URL; the type and the secret stay. */
export class AlertChannelChanges {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'url must be an http(s) URL' },
  )
  @MaxLength(2000)
  url?: string;
}

/** `GET /api/v1/alerts` query. */
export class AlertsQuery extends PageRequest {
  @IsOptional()
  @IsIn(AlertStates as unknown as string[])
  state?: AlertState;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  rule_id?: string;

  @IsOptional()
  @Matches(AGENT_ID_PATTERN)
  agent_id?: string;
}

/** `GET /api/v1/alerts/deliveries` query. */
export class DeliveriesQuery extends PageRequest {
  @IsOptional()
  @IsString()
  @MaxLength(64)
  channel_id?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  alert_id?: string;

  @IsOptional()
  @IsIn(DeliveryStatuses as unknown as string[])
  status?: DeliveryStatus;
}

// ---- RPC requests (gateway → alerting): the organisation plus the validated HTTP input ----

class AlertingOrgRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;
}

export class ListAlertRulesRequest extends AlertingOrgRequest {}

export class CreateAlertRuleRequest extends AlertingOrgRequest {
  @ValidateNested()
  @Type(() => AlertRuleInput)
  rule!: AlertRuleInput;
}

export class AlertRuleRefRequest extends AlertingOrgRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  ruleId!: string;
}

export class UpdateAlertRuleRequest extends AlertRuleRefRequest {
  @ValidateNested()
  @Type(() => AlertRuleChanges)
  changes!: AlertRuleChanges;
}

export class ListAlertChannelsRequest extends AlertingOrgRequest {}

export class CreateAlertChannelRequest extends AlertingOrgRequest {
  @ValidateNested()
  @Type(() => AlertChannelInput)
  channel!: AlertChannelInput;
}

export class AlertChannelRefRequest extends AlertingOrgRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  channelId!: string;
}

export class UpdateAlertChannelRequest extends AlertChannelRefRequest {
  @ValidateNested()
  @Type(() => AlertChannelChanges)
  changes!: AlertChannelChanges;
}

/** `alerts.acknowledge` / `alerts.resolve`: one alert of the organisation, and who acts. */
export class AlertActionRequest extends AlertingOrgRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  alertId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  actor!: string;
}

export class ListAlertsRequest extends AlertingOrgRequest {
  @ValidateNested()
  @Type(() => AlertsQuery)
  query!: AlertsQuery;
}

export class ListDeliveriesRequest extends AlertingOrgRequest {
  @ValidateNested()
  @Type(() => DeliveriesQuery)
  query!: DeliveriesQuery;
}

// ---- RPC responses ----

export interface AlertRule {
  id: string;
  organizationId: string;
  name: string;
  kind: AlertRuleKind;
  enabled: boolean;
  environment: string | null;
  agentType: string | null;
  label: string | null;
  offlineSeconds: number | null;
  threshold: number | null;
  windowSeconds: number | null;
  channelIds: string[];
  createdAt: string;
  updatedAt: string;
}

/** A channel as every response but its creation shows it: the secret never leaves again. */
export interface AlertChannel {
  id: string;
  organizationId: string;
  name: string;
  type: AlertChannelType;
  /**
   * The URL with its secret parts masked (a Slack webhook URL is itself the credential; a webhook's
   * user info, query and long path segments may be tokens). Only the create response shows it whole.
   */
  url: string;
  /** The first characters of the secret, enough to tell two apart. */
  secretHint: string;
  createdAt: string;
}

/** The create response: the one time the signing secret (and the whole URL) is shown. */
export interface CreatedAlertChannel extends AlertChannel {
  secret: string;
}

export interface Alert {
  id: string;
  organizationId: string;
  ruleId: string;
  ruleName: string;
  kind: AlertRuleKind;
  state: AlertState;
  agentId: string | null;
  environment: string | null;
  summary: string;
  /** When the condition started (the agent went offline, the first failure in the window). */
  openedAt: string;
  /** When notifications went out (after the rule's delay for agent_offline). */
  firedAt: string | null;
  resolvedAt: string | null;
  /** Set when a person acknowledged it (`api_key:<id>`); it keeps its state. */
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

/** The answer of `alerts.channels.test`: the one attempt, as the delivery log would record it. */
export interface ChannelTestResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface AlertDelivery {
  id: string;
  alertId: string;
  channelId: string;
  transition: AlertTransition;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  log: DeliveryAttempt[];
}

/** The JSON body a `webhook` channel receives (snake_case, like every HTTP body of the API). */
export interface AlertWebhookBody {
  delivery_id: string;
  transition: AlertTransition;
  text: string;
  alert: {
    id: string;
    rule_id: string;
    rule_name: string;
    kind: AlertRuleKind;
    state: AlertState;
    agent_id: string | null;
    environment: string | null;
    summary: string;
    opened_at: string;
    fired_at: string | null;
    resolved_at: string | null;
  };
}
