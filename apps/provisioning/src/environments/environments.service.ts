import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Environment, EventKinds } from '@app/contracts';
import { Clock } from '@app/clock';
import { EnvironmentRow } from '../database';
import { AuditService } from '../audit/audit.service';
import { EnvironmentsRepository } from './environments.repository';

/**
 * Environments of an organisation. One rule: issuing an enrollment token for an environment creates it,
 * visibly (listed, audited, `environment.created`), whichever route issues the token; an environment is
 * never referred to by tokens or agents without existing here.
 */
@Injectable()
export class EnvironmentsService {
  constructor(
    private readonly environments: EnvironmentsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The environment, created (with an `environment.created` event) if the organisation has none by that name. */
  async ensure(organizationId: string, name: string, actor: string): Promise<Environment> {
    const existing = await this.environments.find(organizationId, name);
    if (existing) return toEnvironment(existing);
    const row: EnvironmentRow = {
      id: `env_${randomUUID()}`,
      organization_id: organizationId,
      name,
      created_at: this.clock.now(),
    };
    // Two concurrent provisions of a new environment: one insert wins, both read the same row.
    const created = await this.audit.record(
      organizationId,
      {
        actor,
        action: 'environment.created',
        targetType: 'environment',
        targetId: name,
        details: { environmentId: row.id },
      },
      {
        change: (trx) => this.environments.insertIfAbsent(row, trx),
        event: {
          kind: EventKinds.environmentCreated,
          organizationId,
          environment: name,
          data: { environmentId: row.id, name },
        },
      },
    );
    if (created) return toEnvironment(row);
    const winner = await this.environments.find(organizationId, name);
    if (!winner) throw new Error(`environment ${name} vanished after a conflicting insert`);
    return toEnvironment(winner);
  }

  async list(organizationId: string): Promise<Environment[]> {
    return (await this.environments.list(organizationId)).map(toEnvironment);
  }
}

function toEnvironment(row: EnvironmentRow): Environment {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}
