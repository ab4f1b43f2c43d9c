import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions, ApiQueryOptions } from '@nestjs/swagger';
import {
  Alert,
  AlertChannel,
  AlertChannelChanges,
  AlertChannelInput,
  AlertChannelType,
  AlertChannelTypes,
  AlertDelivery,
  AlertRule,
  AlertRuleChanges,
  AlertRuleInput,
  AlertRuleKind,
  AlertRuleKinds,
  AlertState,
  AlertStates,
  AlertTransition,
  ChannelTestResult,
  CreatedAlertChannel,
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryStatuses,
  Page,
} from '@app/contracts';
import { PAGE_QUERY_DOC } from '../http/page-query.dto';
import { SnakeCased } from '../live/snake-case';

/*
 * The alerting service validates these bodies (libs/contracts/src/alerts.ts, which carries no OpenAPI
 * metadata); these classes only document them. `implements` keeps their fields those of the wire.
 */

const SCOPE = {
  environment: { example: 'prod-1', description: "Only this environment's agents" },
  agent_type: { example: 'docker', description: 'Only agents of this type' },
  label: { example: 'team=payments', description: 'Only agents carrying this label, `key=value`' },
} as const;
const OFFLINE_SECONDS = {
  minimum: 1,
  maximum: 7 * 86400,
  example: 300,
  description: 'agent_offline (required): notify when the agent is still offline this long',
};
const THRESHOLD = {
  minimum: 1,
  maximum: 1_000_000,
  example: 5,
  description: 'enrollment_failures (required): fire at this many failures within window_seconds',
};
const WINDOW_SECONDS = {
  minimum: 10,
  maximum: 86400,
  example: 600,
  description: 'enrollment_failures (required): the window the failures are counted in',
};
const CHANNEL_IDS: ApiPropertyOptions = {
  type: [String],
  minItems: 1,
  maxItems: 20,
  example: ['7d1c5a3e-2b4f-4e6a-9c8d-1f0e2d3c4b5a'],
  description: 'Channels notified (GET /api/v1/alerts/channels)',
};
const URL = {
  maxLength: 2000,
  example: 'https://hooks.example.com/rca',
  description: 'http(s) URL the notifications are POSTed to',
};

/** `POST /api/v1/alerts/rules` body. */
export class AlertRuleBody implements AlertRuleInput {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'prod agents offline' }) name!: string;
  @ApiProperty({ enum: AlertRuleKinds, example: 'agent_offline' }) kind!: AlertRuleKind;
  @ApiPropertyOptional({ description: 'Default true' }) enabled?: boolean;
  @ApiPropertyOptional(SCOPE.environment) environment?: string;
  @ApiPropertyOptional(SCOPE.agent_type) agent_type?: string;
  @ApiPropertyOptional(SCOPE.label) label?: string;
  @ApiPropertyOptional(OFFLINE_SECONDS) offline_seconds?: number;
  @ApiPropertyOptional(THRESHOLD) threshold?: number;
  @ApiPropertyOptional(WINDOW_SECONDS) window_seconds?: number;
  @ApiProperty(CHANNEL_IDS) channel_ids!: string[];
}

/** `PATCH /api/v1/alerts/rules/:id` body: any field but `kind`; `null` clears a scope field. */
export class AlertRuleChangesBody implements Omit<AlertRuleChanges, 'environment' | 'agent_type' | 'label'> {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, example: 'prod agents offline' }) name?: string;
  @ApiPropertyOptional() enabled?: boolean;
  @ApiPropertyOptional({ ...SCOPE.environment, type: String, nullable: true }) environment?: string | null;
  @ApiPropertyOptional({ ...SCOPE.agent_type, type: String, nullable: true }) agent_type?: string | null;
  @ApiPropertyOptional({ ...SCOPE.label, type: String, nullable: true }) label?: string | null;
  @ApiPropertyOptional(OFFLINE_SECONDS) offline_seconds?: number;
  @ApiPropertyOptional(THRESHOLD) threshold?: number;
  @ApiPropertyOptional(WINDOW_SECONDS) window_seconds?: number;
  @ApiPropertyOptional(CHANNEL_IDS) channel_ids?: string[];
}

/** `POST /api/v1/alerts/channels` body. */
export class AlertChannelBody implements AlertChannelInput {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'on-call webhook' }) name!: string;
  @ApiProperty({
    enum: AlertChannelTypes,
    example: 'webhook',
    description: '`webhook`: our JSON body; `slack`: a Slack incoming webhook. Both are signed.',
  })
  type!: AlertChannelType;
  @ApiProperty(URL) url!: string;
}

/** `PATCH /api/v1/alerts/channels/:id` body. */
export class AlertChannelChangesBody implements AlertChannelChanges {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, example: 'on-call webhook' }) name?: string;
  @ApiPropertyOptional(URL) url?: string;
}

const UUID_EXAMPLE = '7d1c5a3e-2b4f-4e6a-9c8d-1f0e2d3c4b5a';
const ORG_EXAMPLE = '0b6f3c2e-9a41-4c55-8d1e-5f2a7b9c0d13';
const AT = { format: 'date-time', example: '2026-01-05T10:00:00.000Z' } as const;
const NULLABLE_AT = { type: String, format: 'date-time', nullable: true, example: null } as const;

export class AlertRuleView implements SnakeCased<AlertRule> {
  @ApiProperty({ example: '3f2b8c1e-4d6a-4a8e-9f3b-2c1d0e9a8b7c' }) id!: string;
  @ApiProperty({ example: ORG_EXAMPLE }) organization_id!: string;
  @ApiProperty({ example: 'prod agents offline' }) name!: string;
  @ApiProperty({ enum: AlertRuleKinds, example: 'agent_offline' }) kind!: AlertRuleKind;
  @ApiProperty({ example: true }) enabled!: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'prod-1' }) environment!: string | null;
  @ApiProperty({ type: String, nullable: true, example: null }) agent_type!: string | null;
  @ApiProperty({ type: String, nullable: true, example: null }) label!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 300 }) offline_seconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: null }) threshold!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: null }) window_seconds!: number | null;
  @ApiProperty({ type: [String], example: [UUID_EXAMPLE] }) channel_ids!: string[];
  @ApiProperty(AT) created_at!: string;
  @ApiProperty(AT) updated_at!: string;
}

export class AlertRuleList {
  @ApiProperty({ type: [AlertRuleView] }) items!: AlertRuleView[];
}

export class AlertChannelView implements SnakeCased<AlertChannel> {
  @ApiProperty({ example: UUID_EXAMPLE }) id!: string;
  @ApiProperty({ example: ORG_EXAMPLE }) organization_id!: string;
  @ApiProperty({ example: 'on-call webhook' }) name!: string;
  @ApiProperty({ enum: AlertChannelTypes, example: 'webhook' }) type!: AlertChannelType;
  @ApiProperty({
    example: 'https://hooks.example.com/…',
    description: 'Secret parts masked; only the create response shows it whole',
  })
  url!: string;
  @ApiProperty({ example: 'rca_whs_Xk3v', description: 'The first characters of the signing secret' })
  secret_hint!: string;
  @ApiProperty(AT) created_at!: string;
}

export class CreatedAlertChannelView extends AlertChannelView implements SnakeCased<CreatedAlertChannel> {
  @ApiProperty({
    example: 'rca_whs_Xk3v9Qz2LmN8pR4tY6wA1cE5gJ7hK0sD2fB4nM6qP8u',
    description: 'Signs every notification (X-Rca-Signature). Shown only in this response: store it now.',
  })
  secret!: string;
}

export class AlertChannelList {
  @ApiProperty({ type: [AlertChannelView] }) items!: AlertChannelView[];
}

export class ChannelTestResultView implements SnakeCased<ChannelTestResult> {
  @ApiProperty({ example: true }) delivered!: boolean;
  @ApiProperty({ type: Number, nullable: true, example: 200, description: "The receiver's HTTP status" })
  status_code!: number | null;
  @ApiProperty({ type: String, nullable: true, example: null }) error!: string | null;
  @ApiProperty({ example: 84 }) duration_ms!: number;
}

/** An alert as acknowledge and resolve answer it. */
export class AlertView implements SnakeCased<Alert> {
  @ApiProperty({ example: '5e8a2c1d-7b3f-4d9e-a6c0-2f1b3e4d5c6a' }) id!: string;
  @ApiProperty({ example: ORG_EXAMPLE }) organization_id!: string;
  @ApiProperty({ example: '3f2b8c1e-4d6a-4a8e-9f3b-2c1d0e9a8b7c' }) rule_id!: string;
  @ApiProperty({ example: 'prod agents offline' }) rule_name!: string;
  @ApiProperty({ enum: AlertRuleKinds, example: 'agent_offline' }) kind!: AlertRuleKind;
  @ApiProperty({ enum: AlertStates, example: 'firing' }) state!: AlertState;
  @ApiProperty({ type: String, nullable: true, example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'prod-1' }) environment!: string | null;
  @ApiProperty({ example: 'agent ag_fH2E2Vwna1pJYKU3 offline for more than 300s' }) summary!: string;
  @ApiProperty({ ...AT, description: 'When the condition started' }) opened_at!: string;
  @ApiProperty({ ...NULLABLE_AT, description: 'When notifications went out' }) fired_at!: string | null;
  @ApiProperty(NULLABLE_AT) resolved_at!: string | null;
  @ApiProperty(NULLABLE_AT) acknowledged_at!: string | null;
  @ApiProperty({ type: String, nullable: true, example: null, description: '`api_key:<id>`' })
  acknowledged_by!: string | null;
}

/** An alert as the list shows it: with its agent's hostname. */
export class AlertListItemView extends AlertView {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'web-1',
    description: "The agent's hostname; null when the alert has no agent or the agent is gone",
  })
  agent_hostname!: string | null;
}

export class AlertPage implements SnakeCased<Page<Alert>> {
  @ApiProperty({ type: [AlertListItemView] }) items!: AlertListItemView[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}

export class DeliveryAttemptView implements SnakeCased<DeliveryAttempt> {
  @ApiProperty({ example: 1 }) attempt!: number;
  @ApiProperty(AT) at!: string;
  @ApiProperty({ type: Number, nullable: true, example: 200 }) status_code!: number | null;
  @ApiProperty({ type: String, nullable: true, example: null }) error!: string | null;
  @ApiProperty({ example: 84 }) duration_ms!: number;
}

export class AlertDeliveryView implements SnakeCased<AlertDelivery> {
  @ApiProperty({ example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' }) id!: string;
  @ApiProperty({ example: '5e8a2c1d-7b3f-4d9e-a6c0-2f1b3e4d5c6a' }) alert_id!: string;
  @ApiProperty({ example: UUID_EXAMPLE }) channel_id!: string;
  @ApiProperty({ enum: ['firing', 'resolved'], example: 'firing' }) transition!: AlertTransition;
  @ApiProperty({ enum: DeliveryStatuses, example: 'delivered' }) status!: DeliveryStatus;
  @ApiProperty({ example: 1, description: 'Attempts made so far' }) attempts!: number;
  @ApiProperty(NULLABLE_AT) next_attempt_at!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 200 }) last_status_code!: number | null;
  @ApiProperty({ type: String, nullable: true, example: null }) last_error!: string | null;
  @ApiProperty(AT) created_at!: string;
  @ApiProperty({ ...NULLABLE_AT, example: '2026-01-05T10:00:01.000Z' }) delivered_at!: string | null;
  @ApiProperty({ type: [DeliveryAttemptView] }) log!: DeliveryAttemptView[];
}

export class DeliveryPage implements SnakeCased<Page<AlertDelivery>> {
  @ApiProperty({ type: [AlertDeliveryView] }) items!: AlertDeliveryView[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}

/** Query parameters of `GET /api/v1/alerts` and `GET /api/v1/alerts/deliveries` (validated as AlertsQuery, DeliveriesQuery). */
export const AlertsQueryDoc: ApiQueryOptions[] = [
  { name: 'state', required: false, enum: AlertStates },
  { name: 'rule_id', required: false, type: String },
  { name: 'agent_id', required: false, type: String, example: 'ag_fH2E2Vwna1pJYKU3' },
  ...PAGE_QUERY_DOC,
];
export const DeliveriesQueryDoc: ApiQueryOptions[] = [
  { name: 'alert_id', required: false, type: String },
  { name: 'channel_id', required: false, type: String },
  { name: 'status', required: false, enum: DeliveryStatuses },
  ...PAGE_QUERY_DOC,
];
