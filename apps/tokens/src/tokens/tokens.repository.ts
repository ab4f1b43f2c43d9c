import { Inject, Injectable } from '@nestjs/common';
import { Database, DATABASE } from '@app/persistence';
import { TokenKind } from '@app/contracts';
import { TokenRow, TokensDB } from '../database';
import { Executor } from '../transactions';

export interface TokenScope {
  kind?: TokenKind;
  environment?: string;
}

export interface TokenFilter extends TokenScope {
  includeRevoked: boolean;
}

/**
 * The only place that speaks SQL about tokens. Every method takes the organisation id, so
 * another organisation's token is simply not found — except `findByHash`, which is how
 * verification finds a token it knows nothing else about.
 */
@Injectable()
export class TokensRepository {
  private readonly db: Executor;

  constructor(@Inject(DATABASE) database: Database<TokensDB> | { db: Executor }) {
    this.db = database.db;
  }

  /** The same repository working inside a transaction. */
  in(trx: Executor): TokensRepository {
    return new TokensRepository({ db: trx });
  }

  async insert(row: TokenRow): Promise<void> {
    await this.db.insertInto('tokens').values(row).execute();
  }

  /** The verification lookup: one probe of the unique hash index. */
  findByHash(hash: string): Promise<TokenRow | undefined> {
    return this.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
  }

  /** The batched verification lookup: one `IN (…)` over the unique hash index. */
  findByHashes(hashes: string[]): Promise<TokenRow[]> {
    if (!hashes.length) return Promise.resolve([]);
    return this.db
      .selectFrom('tokens')
      .selectAll()
      .where('hash', 'in', [...new Set(hashes)])
      .execute();
  }

  getById(organizationId: string, id: string, scope: TokenScope = {}): Promise<TokenRow | undefined> {
    let query = this.db
      .selectFrom('tokens')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id);
    if (scope.kind) query = query.where('kind', '=', scope.kind);
    if (scope.environment) query = query.where('environment', '=', scope.environment);
    return query.executeTakeFirst();
  }

  list(organizationId: string, filter: TokenFilter, now: number): Promise<TokenRow[]> {
    let query = this.db.selectFrom('tokens').selectAll().where('organization_id', '=', organizationId);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.environment) query = query.where('environment', '=', filter.environment);
    if (!filter.includeRevoked) {
      query = query.where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>', now)]));
    }
    return query.orderBy('created_at', 'desc').orderBy('id').execute();
  }

  /** Sets revoked_at once; returns false when the token was already revoked (or is not the org's). */
  async revoke(organizationId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Marks a token as replaced. Conditional on it not being rotated or revoked yet, so two
   * concurrent rotations cannot both succeed: the loser sees false.
   */
  async markRotated(
    organizationId: string,
    id: string,
    graceUntil: number,
    replacedBy: string,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('tokens')
      .set({ grace_until: graceUntil, replaced_by: replacedBy })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('replaced_by', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Counts one use. Atomic in one statement: of N concurrent enrollments against a token
   * with one use left, exactly one gets true.
   */
  async consumeUse(organizationId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('tokens')
      .set((eb) => ({ uses: eb('uses', '+', 1), last_used_at: now }))
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async touchLastUsed(organizationId: string, id: string, now: number): Promise<void> {
    await this.db
      .updateTable('tokens')
      .set({ last_used_at: now })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .execute();
  }

  async touchLastUsedMany(organizationId: string, ids: string[], now: number): Promise<void> {
    await this.db
      .updateTable('tokens')
      .set({ last_used_at: now })
      .where('organization_id', '=', organizationId)
      .where('id', 'in', ids)
      .execute();
  }
}
