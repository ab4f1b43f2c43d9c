import { Injectable } from '@nestjs/common';
import { AuditEntry, TokenKind, TokenMetadata } from '@app/contracts';
import { FleetClient } from '../agents/fleet.client';
import { AuthContext } from '../auth/current-org.decorator';
import { TokensClient } from '../tokens/tokens.client';
import { ActorKind, AuditQuery } from './audit.dto';

/** How provisioning records who acted: `api_key:<id>` (an HTTP call), `enrollment:<token id>` (an agent enrolling). */
const ACTOR_FORMS: { prefix: string; kind: ActorKind; tokenKind: TokenKind }[] = [
  { prefix: 'api_key:', kind: 'api_key', tokenKind: 'api_key' },
  { prefix: 'enrollment:', kind: 'enrollment_token', tokenKind: 'enrollment' },
];

export interface AuditEntryWithActor extends AuditEntry {
  actorKind: ActorKind;
  actorName: string | null;
}

/**
 * The audit log for people: provisioning's entries, the action filter by exact name or `prefix.*`,
 * and each actor named by the API key or enrollment token it was (the organisation's own tokens only).
 */
@Injectable()
export class AuditLogService {
  constructor(
    private readonly fleet: FleetClient,
    private readonly tokens: TokensClient,
  ) {}

  async list(auth: AuthContext, query: AuditQuery) {
    const prefix = query.action?.endsWith('.*') ? query.action.slice(0, -1) : undefined;
    const page = await this.fleet.audit({
      organizationId: auth.organizationId,
      action: prefix ? undefined : query.action,
      actionPrefix: prefix,
      agentId: query.agent_id,
      limit: query.limit,
      offset: query.offset,
    });
    const names = await this.actorNames(auth.organizationId, page.items);
    const items: AuditEntryWithActor[] = page.items.map((entry) => {
      const form = ACTOR_FORMS.find((f) => entry.actor.startsWith(f.prefix));
      return {
        ...entry,
        actorKind: form?.kind ?? 'other',
        actorName: form ? (names.get(entry.actor.slice(form.prefix.length)) ?? null) : null,
      };
    });
    return { ...page, items };
  }

  /** Token id → name (or hint), fetching only the kinds this page's actors need. */
  private async actorNames(organizationId: string, entries: AuditEntry[]): Promise<Map<string, string>> {
    const kinds = ACTOR_FORMS.filter((f) => entries.some((e) => e.actor.startsWith(f.prefix)));
    const lists = await Promise.all(
      kinds.map((f) => this.tokens.list({ organizationId, kind: f.tokenKind, includeRevoked: true })),
    );
    return new Map(lists.flat().map((t: TokenMetadata) => [t.id, t.name ?? `${t.hint}…`]));
  }
}
