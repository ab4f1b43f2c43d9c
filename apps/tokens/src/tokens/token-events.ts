import { Injectable } from '@nestjs/common';
import {
  EventEnvelope,
  EventKinds,
  OrganizationCreatedData,
  TokenIssuedData,
  TokenRevokedData,
  TokenRotatedData,
} from '@app/contracts';
import { EventOutbox } from '@app/outbox';
import { OrganizationRow, TokenRow } from '../database';
import { Executor } from '../transactions';
import { toIso } from './token-mapper';

/**
 * The facts this service publishes on EVENTS. Each is written to the outbox in the transaction
 * of its change (`trx`) and published after the commit (`publishSoon`). Event ids are derived
 * from the change (`token.revoked:<id>`), so retrying a call republishes the same id: JetStream
 * stores it once while live subscribers (verifier caches) see it again.
 */
/** Published by the request that committed them, right after the commit. */
const CLAIMED = { claim: true };

@Injectable()
export class TokenEvents {
  constructor(private readonly outbox: EventOutbox) {}

  /** After the commit: the events are normally out when this resolves (bounded wait). */
  publishSoon(events: EventEnvelope[]): Promise<void> {
    return this.outbox.publishSoon(events);
  }

  async issued(trx: Executor, row: TokenRow, replaces?: string, actor?: string): Promise<EventEnvelope[]> {
    return this.outbox.add(
      trx,
      [
        {
          id: `${EventKinds.tokenIssued}:${row.id}`,
          kind: EventKinds.tokenIssued,
          organizationId: row.organization_id,
          environment: row.environment,
          data: {
            tokenId: row.id,
            kind: row.kind,
            name: row.name,
            expiresAt: toIso(row.expires_at),
            maxUses: row.max_uses,
            ...(replaces ? { replaces } : {}),
            ...(actor ? { actor } : {}),
          } satisfies TokenIssuedData,
        },
      ],
      CLAIMED,
    );
  }

  async revoked(trx: Executor, row: TokenRow, reason?: string, actor?: string): Promise<EventEnvelope[]> {
    return this.outbox.add(
      trx,
      [
        {
          id: `${EventKinds.tokenRevoked}:${row.id}`,
          kind: EventKinds.tokenRevoked,
          organizationId: row.organization_id,
          environment: row.environment,
          data: {
            tokenId: row.id,
            kind: row.kind,
            ...(reason ? { reason } : {}),
            ...(actor ? { actor } : {}),
          } satisfies TokenRevokedData,
        },
      ],
      CLAIMED,
    );
  }

  async rotated(
    trx: Executor,
    previous: TokenRow,
    replacement: TokenRow,
    graceUntil: number,
    actor?: string,
  ): Promise<EventEnvelope[]> {
    return this.outbox.add(
      trx,
      [
        {
          id: `${EventKinds.tokenRotated}:${previous.id}`,
          kind: EventKinds.tokenRotated,
          organizationId: previous.organization_id,
          environment: previous.environment,
          data: {
            tokenId: previous.id,
            replacedBy: replacement.id,
            graceUntil: new Date(graceUntil).toISOString(),
            ...(actor ? { actor } : {}),
          } satisfies TokenRotatedData,
        },
      ],
      CLAIMED,
    );
  }

  async organizationCreated(
    trx: Executor,
    organization: OrganizationRow,
    apiKeyId: string,
  ): Promise<EventEnvelope[]> {
    return this.outbox.add(
      trx,
      [
        {
          id: `${EventKinds.organizationCreated}:${organization.id}`,
          kind: EventKinds.organizationCreated,
          organizationId: organization.id,
          data: { name: organization.name, apiKeyId } satisfies OrganizationCreatedData,
        },
      ],
      CLAIMED,
    );
  }
}
