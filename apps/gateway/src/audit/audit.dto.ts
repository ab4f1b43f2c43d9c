import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { AuditEntry, Page } from '@app/contracts';
import { PageQuery } from '../http/page-query.dto';
import { SnakeCased } from '../live/snake-case';
import type { AuditEntryWithActor } from './audit-log.service';

/** An action (`agent.revoked`) or a prefix of actions (`agent.*`). */
export const AUDIT_ACTION_FILTER = /^[a-z_]+(\.[a-z_]+)*(\.\*)?$/;

/** `GET /api/v1/audit` query string. */
export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({
    example: 'agent.*',
    description: 'One action (`agent.revoked`) or every action under a prefix (`agent.*`, `token.*`)',
  })
  @IsOptional()
  @Matches(AUDIT_ACTION_FILTER, {
    message: 'action must be an action (agent.revoked) or a prefix ending in .* (agent.*)',
  })
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ description: 'Entries about this agent' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  agent_id?: string;
}

/** Who an actor string stands for. */
export const ActorKinds = ['api_key', 'enrollment_token', 'other'] as const;
export type ActorKind = (typeof ActorKinds)[number];

/** One audit entry as the HTTP API shows it: the stored entry plus who the actor is, by name. */
export class AuditEntryView implements SnakeCased<AuditEntryWithActor> {
  @ApiProperty({ example: '3f2b8c1e-4d6a-4a8e-9f3b-2c1d0e9a8b7c' })
  id!: string;
  @ApiProperty({ example: '0b6f3c2e-9a41-4c55-8d1e-5f2a7b9c0d13' })
  organization_id!: string;
  @ApiProperty({ example: '2026-01-05T10:00:00.000Z' })
  at!: string;
  @ApiProperty({
    example: 'api_key:9b1c…',
    description: 'As recorded: `api_key:<id>`, `enrollment:<token id>`',
  })
  actor!: string;
  @ApiProperty({ enum: ActorKinds, example: 'api_key' })
  actor_kind!: ActorKind;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'initial key',
    description:
      "The API key's or enrollment token's name (its hint when unnamed); null when it no longer exists",
  })
  actor_name!: string | null;
  @ApiProperty({ example: 'agent.revoked' })
  action!: string;
  @ApiProperty({ example: 'agent', description: '`agent`, `environment` or `token`' })
  target_type!: string;
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' })
  target_id!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { environment: 'prod-1', hostname: 'web-1' },
  })
  details!: Record<string, unknown>;
}

/** `GET /api/v1/audit`: one page, newest first. */
export class AuditPage implements SnakeCased<Page<AuditEntry>> {
  @ApiProperty({ type: [AuditEntryView] }) items!: AuditEntryView[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}
