import { Injectable } from '@nestjs/common';
import {
  EventKinds,
  OrganizationCreatedData,
  TokenIssuedData,
  TokenRevokedData,
  TokenRotatedData,
} from '@app/contracts';
import { EventPublisher } from '@app/messaging';
import { OrganizationRow, TokenRow } from '../database';
import { toIso } from './token-mapper';

/**
 * The facts this service publishes on EVENTS, always after the database commit. Event ids
 * are derived from the change (`token.revoked:<id>`), so retrying a call republishes the
 * same id: JetStream stores it once while live subscribers (verifier caches) see it again.
 */
@Injectable()
export class TokenEvents {
  constructor(private readonly publisher: EventPublisher) {}

  async issued(row: TokenRow, replaces?: string): Promise<void> {
    await this.publisher.publish<TokenIssuedData>({
      id: `${EventKinds.tokenIssued}:${row.id}`,
      kind: EventKinds.tokenIssued,
      organizationId: row.organization_id,
      environment: row.environment,
      agentId: row.agent_id,
      data: {
        tokenId: row.id,
        kind: row.kind,
        name: row.name,
        expiresAt: toIso(row.expires_at),
        maxUses: row.max_uses,
        ...(replaces ? { replaces } : {}),
      },
    });
  }

  async revoked(row: TokenRow, reason?: string): Promise<void> {
    await this.publisher.publish<TokenRevokedData>({
      id: `${EventKinds.tokenRevoked}:${row.id}`,
      kind: EventKinds.tokenRevoked,
      organizationId: row.organization_id,
      environment: row.environment,
      agentId: row.agent_id,
      data: { tokenId: row.id, kind: row.kind, ...(reason ? { reason } : {}) },
    });
  }

  async rotated(previous: TokenRow, replacement: TokenRow, graceUntil: number): Promise<void> {
    await this.publisher.publish<TokenRotatedData>({
      id: `${EventKinds.tokenRotated}:${previous.id}`,
      kind: EventKinds.tokenRotated,
      organizationId: previous.organization_id,
      environment: previous.environment,
      agentId: previous.agent_id,
      data: {
        tokenId: previous.id,
        replacedBy: replacement.id,
        graceUntil: new Date(graceUntil).toISOString(),
      },
    });
  }

  async organizationCreated(organization: OrganizationRow, apiKeyId: string): Promise<void> {
    await this.publisher.publish<OrganizationCreatedData>({
      id: `${EventKinds.organizationCreated}:${organization.id}`,
      kind: EventKinds.organizationCreated,
      organizationId: organization.id,
      data: { name: organization.name, apiKeyId },
    });
  }
}
