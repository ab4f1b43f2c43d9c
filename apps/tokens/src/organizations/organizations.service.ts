import { Injectable } from '@nestjs/common';
import { ConflictError, CreatedOrganization, EventEnvelope, Organization } from '@app/contracts';
import { Clock } from '@app/clock';
import { OrganizationRow } from '../database';
import { isUniqueViolation, Transactions } from '../transactions';
import { TokenEvents } from '../tokens/token-events';
import { toIssuedToken, toOrganization } from '../tokens/token-mapper';
import { TokenSecrets } from '../tokens/token-secrets';
import { TokensRepository } from '../tokens/tokens.repository';
import { TokensService } from '../tokens/tokens.service';
import { OrganizationsRepository } from './organizations.repository';

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly organizations: OrganizationsRepository,
    private readonly tokens: TokensRepository,
    private readonly tokensService: TokensService,
    private readonly transactions: Transactions,
    private readonly events: TokenEvents,
    private readonly secrets: TokenSecrets,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates the organisation and its first API key in one transaction: there is never an
   * organisation nobody can authenticate as. `apiKeySecret` is given only by the bootstrap.
   */
  async create(name: string, apiKeySecret?: string, actor?: string): Promise<CreatedOrganization> {
    const organization: OrganizationRow = { id: this.secrets.newId(), name, created_at: this.clock.now() };
    const key = this.tokensService.newToken(
      { kind: 'api_key', organizationId: organization.id, name: 'initial key' },
      apiKeySecret,
    );
    let events: EventEnvelope[];
    try {
      events = await this.transactions.run(async (trx) => {
        await this.organizations.in(trx).insert(organization);
        await this.tokens.in(trx).insert(key.row);
        return [
          ...(await this.events.organizationCreated(trx, organization, key.row.id)),
          ...(await this.events.issued(trx, key.row, undefined, actor)),
        ];
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`organization "${name}" already exists`);
      throw error;
    }
    await this.events.publishSoon(events);
    return { organization: toOrganization(organization), apiKey: toIssuedToken(key.row, key.secret) };
  }

  async list(): Promise<Organization[]> {
    return (await this.organizations.list()).map(toOrganization);
  }

  count(): Promise<number> {
    return this.organizations.count();
  }
}
