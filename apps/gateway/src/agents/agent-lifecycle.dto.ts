import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  AgentStatus,
  BULK_SAMPLE_SIZE,
  BulkAgentAction,
  BulkAgentActions,
  BulkAgentFailure,
  BulkAgentsResult,
  FleetSettings,
  labelErrors,
  MAX_AGENT_LABELS,
  MAX_BULK_AGENTS,
  MAX_INACTIVE_AGENT_CLEANUP_DAYS,
  ReenrollAllowance,
} from '@app/contracts';
import { SnakeCased } from '../live/snake-case';
import { RequestFieldsError } from '../http/validation.pipe';
import { ConfigSettingsBody } from '../configs/configs.dto';
import { ListAgentsQuery } from './agents.dto';

/** `PATCH /agents/:id/labels`, and `labels` of a bulk relabel. */
export class LabelChangesBody {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 255 },
    example: { team: 'payments' },
    description: 'Labels to add or overwrite; keys 1-63 of A-Z a-z 0-9 _ . / -',
  })
  @IsOptional()
  @IsObject()
  set?: Record<string, string>;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_AGENT_LABELS,
    example: ['canary'],
    description: 'Label keys to remove (applied before `set`); absent keys are ignored',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_AGENT_LABELS)
  @IsString({ each: true })
  @MaxLength(63, { each: true })
  remove?: string[];
}

/** Refuses a bad label here, so the error names the key exactly as the client spelt it. */
export function checkLabelChanges(changes: LabelChangesBody, field: string): void {
  const prefix = field ? `${field}.` : '';
  const problems = labelErrors(changes.set ?? {}, `${prefix}set`);
  if (!changes.set && !changes.remove) {
    problems.push({ field: field || '(body)', reason: 'must have set or remove (or both)' });
  }
  if (problems.length) throw new RequestFieldsError(problems);
}

/** The agents a bulk action selects: the filters of `GET /api/v1/agents`, validated as there. */
export class AgentFilterBody extends PickType(ListAgentsQuery, [
  'environment',
  'status',
  'type',
  'label',
  'search',
] as const) {
  // What the request body's document shows differs from the query string's, not what is accepted.
  @ApiPropertyOptional({ example: 'offline' })
  declare status?: AgentStatus;

  @ApiPropertyOptional({ description: 'key=value' })
  declare label?: string;
}

/** `POST /api/v1/agents/bulk` */
export class BulkAgentsBody {
  @ApiProperty({
    enum: BulkAgentActions,
    example: 'revoke',
    description:
      '`revoke` each selected agent, `relabel` it with `labels`, or `assign_config`: save `config` as its override (a new version each, pushed to it)',
  })
  @IsIn(BulkAgentActions as unknown as string[])
  action!: BulkAgentAction;

  @ApiProperty({ type: AgentFilterBody, description: 'Which agents: `{}` selects every agent' })
  @IsDefined()
  @ValidateNested()
  @Type(() => AgentFilterBody)
  filter!: AgentFilterBody;

  @ApiPropertyOptional({ type: LabelChangesBody, description: 'relabel only (required there)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => LabelChangesBody)
  labels?: LabelChangesBody;

  @ApiPropertyOptional({
    type: ConfigSettingsBody,
    description: 'assign_config only (required there): the override each selected agent gets',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ConfigSettingsBody)
  config?: ConfigSettingsBody;

  @ApiPropertyOptional({
    example: true,
    description: 'Count (and sample) the selected agents without changing anything',
  })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;
}

export class BulkFailureView implements SnakeCased<BulkAgentFailure> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string;
  @ApiProperty({ example: 'NOT_FOUND' }) code!: string;
  @ApiProperty({ example: 'agent ag_fH2E2Vwna1pJYKU3 not found' }) message!: string;
}

export class BulkResultView implements SnakeCased<BulkAgentsResult> {
  @ApiProperty({ enum: BulkAgentActions, example: 'revoke' }) action!: BulkAgentAction;
  @ApiProperty({ example: false }) dry_run!: boolean;
  @ApiProperty({ example: 3, description: 'Agents the filter selects' }) matched!: number;
  @ApiProperty({
    type: [String],
    example: ['ag_fH2E2Vwna1pJYKU3'],
    description: `Up to ${BULK_SAMPLE_SIZE} of the selected agents' ids, oldest first`,
  })
  sample_ids!: string[];
  @ApiProperty({ example: 3, description: 'Agents changed (0 on a dry run)' }) done!: number;
  @ApiProperty({ example: 0 }) failed!: number;
  @ApiProperty({ type: [BulkFailureView], example: [] }) failures!: BulkFailureView[];
}

export class ReenrollAllowanceView implements SnakeCased<ReenrollAllowance> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) agent_id!: string;
  @ApiProperty({ example: '4c4c4544-0042-3510-8052-b4c04f4d4c31' }) host_id!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-05T10:00:00.000Z' }) reenroll_allowed_at!: string;
}

const CLEANUP_DAYS_DOC = {
  type: Number,
  nullable: true,
  minimum: 1,
  maximum: MAX_INACTIVE_AGENT_CLEANUP_DAYS,
  example: 30,
  description:
    'Revoke and delete agents offline (or revoked) and unheard for longer than this many days; null = off (the default)',
} as const;

/** `PUT /api/v1/settings/fleet` */
export class FleetSettingsBody {
  @ApiProperty(CLEANUP_DAYS_DOC)
  @ValidateIf((o: FleetSettingsBody) => o.inactive_agent_cleanup_days !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_INACTIVE_AGENT_CLEANUP_DAYS)
  inactive_agent_cleanup_days!: number | null;
}

export class FleetSettingsView implements SnakeCased<FleetSettings> {
  @ApiProperty(CLEANUP_DAYS_DOC) inactive_agent_cleanup_days!: number | null;
}

export const BULK_DOC = `At most ${MAX_BULK_AGENTS} agents per request (a wider filter is refused with 400 naming \`filter\`; a dry run still counts it)`;
