import { Inject, Injectable } from '@nestjs/common';
import { BehindAgent } from '@app/contracts';
import { Database, DATABASE } from '@app/persistence';
import { ProvisioningDB } from '../database';

/** Versions across one organisation's registry; revoked agents do not count. */
@Injectable()
export class VersionsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<ProvisioningDB>) {}

  /** One grouped query: agents per (version, type). */
  async countByVersion(organizationId: string): Promise<{ version: string; type: string; count: number }[]> {
    const rows = await this.database.db
      .selectFrom('agents')
      .select(['version', 'type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('organization_id', '=', organizationId)
      .where('status', '!=', 'revoked')
      .groupBy(['version', 'type'])
      .execute();
    return rows.map((r) => ({ version: r.version, type: r.type, count: Number(r.n) }));
  }

  /** The first `limit` agents (by hostname) running one of `versions`. */
  async agentsRunning(organizationId: string, versions: string[], limit: number): Promise<BehindAgent[]> {
    if (!versions.length) return [];
    return this.database.db
      .selectFrom('agents')
      .select(['id', 'hostname', 'type', 'environment', 'version'])
      .where('organization_id', '=', organizationId)
      .where('status', '!=', 'revoked')
      .where('version', 'in', versions)
      .orderBy('hostname')
      .orderBy('id')
      .limit(limit)
      .execute();
  }
}
