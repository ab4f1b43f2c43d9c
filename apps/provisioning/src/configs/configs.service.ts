import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AgentConfigDocument,
  AgentConfigRequest,
  AgentConfigSettings,
  AgentConfigStatus,
  AgentConfigView,
  AgentRevokedError,
  ConfigVersionRecord,
  ConflictError,
  EnvironmentConfigView,
  labelProblems,
  mergeConfigSettings,
  NotFoundError,
  ValidationFailedError,
} from '@app/contracts';
import { appMetricsProblems } from '@app/agent-core';
import { Clock } from '@app/clock';
import { AuditRepository } from '../audit/audit.repository';
import { AgentConfigStatusRow, ConfigVersionRow } from '../database';
import { EnvironmentsRepository } from '../environments/environments.repository';
import { ConfigPusher } from './config.pusher';
import { ConfigAgentRow, ConfigsRepository } from './configs.repository';

export const ConfigAuditActions = {
  environmentSaved: 'config.environment.saved',
  overrideSaved: 'config.override.saved',
  overrideRemoved: 'config.override.removed',
} as const;

/** Versions kept in an environment's answer (the rest stay in the table and the audit log). */
const HISTORY_LENGTH = 50;

/**
 * Remote configuration: versioned environment configs and per-agent overrides, pushed to running
 * agents; what agents fetch and report. Every save is a new immutable version, audited with its actor.
 */
@Injectable()
export class ConfigsService {
  constructor(
    private readonly configs: ConfigsRepository,
    private readonly environments: EnvironmentsRepository,
    private readonly auditLog: AuditRepository,
    private readonly pusher: ConfigPusher,
    private readonly clock: Clock,
  ) {}

  async environmentConfig(organizationId: string, environment: string): Promise<EnvironmentConfigView> {
    await this.requireEnvironment(organizationId, environment);
    const rows = await this.configs.environmentVersions(organizationId, environment, HISTORY_LENGTH);
    const history = rows.map(toRecord);
    return { environment, current: history[0] ?? null, history };
  }

  /** Saves a new version of the environment's config and pushes every agent's effective config to it. */
  async saveEnvironmentConfig(
    organizationId: string,
    environment: string,
    settings: AgentConfigSettings,
    actor: string,
  ): Promise<ConfigVersionRecord> {
    checkSettings(settings);
    await this.requireEnvironment(organizationId, environment);
    const row = await this.saveVersion(organizationId, environment, null, settings, actor);
    const [agents, overrides] = await Promise.all([
      this.configs.configurableAgents(organizationId, environment),
      this.configs.latestOverrides(organizationId, environment),
    ]);
    const overrideOf = new Map(overrides.map((o) => [o.agent_id!, o]));
    const shared: AgentConfigDocument = {
      version: row.version,
      settings: mergeConfigSettings(settings, null),
    };
    await this.pusher.push(
      environment,
      agents.map(({ id }) => {
        const override = overrideOf.get(id);
        return { agentId: id, config: override ? effective(row, override) : shared };
      }),
    );
    return toRecord(row);
  }

  async agentConfig(organizationId: string, agentId: string): Promise<AgentConfigView> {
    const agent = await this.requireAgent(organizationId, agentId);
    const [environmentRow, overrideRow, statusRows] = await Promise.all([
      this.currentEnvironmentRow(organizationId, agent.environment),
      this.configs.latestOverride(organizationId, agentId),
      this.configs.statuses(organizationId, [agentId]),
    ]);
    const document = effective(environmentRow, overrideRow);
    return {
      agentId,
      environment: agent.environment,
      effective: document,
      environmentConfig: environmentRow ? toRecord(environmentRow) : null,
      override: overrideRow?.settings ? toRecord(overrideRow) : null,
      status: toStatus(document.version, statusRows[0]),
    };
  }

  /** Saves (settings) or removes (null) the agent's override as a new version and pushes the result to it. */
  async saveOverride(
    organizationId: string,
    agentId: string,
    settings: AgentConfigSettings | null,
    actor: string,
  ): Promise<AgentConfigView> {
    if (settings) checkSettings(settings);
    const agent = await this.requireAgent(organizationId, agentId);
    if (agent.status === 'revoked') throw new ConflictError(`agent ${agentId} is revoked`);
    if (!settings && !(await this.configs.latestOverride(organizationId, agentId))?.settings)
      throw new NotFoundError(`config override of agent ${agentId}`);
    await this.saveVersion(organizationId, agent.environment, agentId, settings, actor);
    const view = await this.agentConfig(organizationId, agentId);
    await this.pusher.push(agent.environment, [{ agentId, config: view.effective }]);
    return view;
  }

  /** Config state of a page of agents (the agents table); agents never configured are left out. */
  async statuses(organizationId: string, agentIds: string[]): Promise<Record<string, AgentConfigStatus>> {
    const out: Record<string, AgentConfigStatus> = {};
    const byEnvironment = new Map<string, ConfigAgentRow[]>();
    for (const agent of await this.configs.agents(organizationId, agentIds))
      byEnvironment.set(agent.environment, [...(byEnvironment.get(agent.environment) ?? []), agent]);
    const reports = new Map(
      (await this.configs.statuses(organizationId, agentIds)).map((row) => [row.agent_id, row]),
    );
    for (const [environment, members] of byEnvironment) {
      const [environmentRow, overrides] = await Promise.all([
        this.currentEnvironmentRow(organizationId, environment),
        this.configs.latestOverrides(organizationId, environment),
      ]);
      const overrideOf = new Map(overrides.map((o) => [o.agent_id!, o]));
      for (const agent of members) {
        const version = Math.max(environmentRow?.version ?? 0, overrideOf.get(agent.id)?.version ?? 0);
        out[agent.id] = toStatus(version, reports.get(agent.id));
      }
    }
    return out;
  }

  /** `fetch` on the agent's own config subject: its effective config (version 0: none applies). */
  async fetchForAgent(environment: string, agentId: string): Promise<AgentConfigDocument> {
    const agent = await this.agentOnSubject(environment, agentId);
    const [environmentRow, overrideRow] = await Promise.all([
      this.currentEnvironmentRow(agent.organization_id, environment),
      this.configs.latestOverride(agent.organization_id, agentId),
    ]);
    return effective(environmentRow, overrideRow);
  }

  /** `ack` on the agent's own config subject: the version it now runs, or the one it rejected and why. */
  async recordAck(environment: string, agentId: string, request: AgentConfigRequest): Promise<void> {
    if (request.version === undefined || request.applied === undefined)
      throw new ValidationFailedError([
        { field: request.version === undefined ? 'version' : 'applied', reason: 'required for an ack' },
      ]);
    const agent = await this.agentOnSubject(environment, agentId);
    await this.configs.recordReport(
      agent.organization_id,
      agentId,
      {
        version: request.version,
        applied: request.applied,
        error: request.applied ? null : (request.error ?? 'rejected without a reason'),
      },
      this.clock.now(),
    );
  }

  private async saveVersion(
    organizationId: string,
    environment: string,
    agentId: string | null,
    settings: AgentConfigSettings | null,
    actor: string,
  ): Promise<ConfigVersionRow> {
    const action = !agentId
      ? ConfigAuditActions.environmentSaved
      : settings
        ? ConfigAuditActions.overrideSaved
        : ConfigAuditActions.overrideRemoved;
    const stored = settings ? mergeConfigSettings(settings, null) : null;
    // The version is only known inside the transaction, so the audit entry (which names it) is written
    // here with the config row rather than through AuditService.record, whose details are fixed before.
    return this.auditLog.transaction(async (trx) => {
      const at = this.clock.now();
      const version = await this.configs.nextVersion(trx, organizationId, environment);
      const row: ConfigVersionRow = {
        organization_id: organizationId,
        environment,
        version,
        agent_id: agentId,
        settings: stored ? JSON.stringify(stored) : null,
        actor,
        created_at: at,
      };
      await this.configs.insertVersion(trx, row);
      await this.auditLog.insert(
        {
          id: randomUUID(),
          organization_id: organizationId,
          at,
          actor,
          action,
          target_type: agentId ? 'agent' : 'environment',
          target_id: agentId ?? environment,
          details: JSON.stringify({ environment, version, settings: stored }),
        },
        trx,
      );
      return row;
    });
  }

  private async currentEnvironmentRow(organizationId: string, environment: string) {
    return (await this.configs.environmentVersions(organizationId, environment, 1))[0];
  }

  private async requireEnvironment(organizationId: string, environment: string): Promise<void> {
    if (!(await this.environments.find(organizationId, environment)))
      throw new NotFoundError(`environment ${environment}`);
  }

  private async requireAgent(organizationId: string, agentId: string): Promise<ConfigAgentRow> {
    const agent = await this.configs.agent(organizationId, agentId);
    if (!agent) throw new NotFoundError(`agent ${agentId}`);
    return agent;
  }

  /** The subject's agent must be enrolled in exactly that environment and not revoked. */
  private async agentOnSubject(environment: string, agentId: string): Promise<ConfigAgentRow> {
    const agent = await this.configs.agentOnSubject(environment, agentId);
    if (!agent) throw new NotFoundError(`agent ${agentId} in environment ${environment}`);
    if (agent.status === 'revoked') throw new AgentRevokedError(agentId);
    return agent;
  }
}

/** What class-validator cannot see: label keys, and app-metrics sections (validated by the agent's own parsers). */
export function checkSettings(settings: AgentConfigSettings, prefix = 'settings'): void {
  const problems = [
    ...labelProblems(settings.labels, `${prefix}.labels`),
    ...appMetricsProblems(settings.appMetrics, `${prefix}.app_metrics`),
  ];
  if (problems.length) throw new ValidationFailedError(problems);
}

/** The effective config: its version is the newer of the two saves that made it. */
function effective(
  environmentRow: ConfigVersionRow | undefined,
  overrideRow: ConfigVersionRow | undefined,
): AgentConfigDocument {
  return {
    version: Math.max(environmentRow?.version ?? 0, overrideRow?.version ?? 0),
    settings: mergeConfigSettings(parse(environmentRow), parse(overrideRow)),
  };
}

function parse(row: ConfigVersionRow | undefined): AgentConfigSettings | null {
  return row?.settings ? (JSON.parse(row.settings) as AgentConfigSettings) : null;
}

function toRecord(row: ConfigVersionRow): ConfigVersionRecord {
  return {
    version: Number(row.version),
    environment: row.environment,
    agentId: row.agent_id,
    settings: parse(row),
    actor: row.actor,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** `applied` when it reported running the desired version (or newer), `failed` when it rejected it. */
export function toStatus(desiredVersion: number, row: AgentConfigStatusRow | undefined): AgentConfigStatus {
  const applied = row?.applied_version == null ? null : Number(row.applied_version);
  const failed = row?.failed_version == null ? null : Number(row.failed_version);
  const state =
    desiredVersion === 0
      ? 'none'
      : applied !== null && applied >= desiredVersion
        ? 'applied'
        : failed !== null && failed >= desiredVersion
          ? 'failed'
          : 'pending';
  return {
    state,
    desiredVersion,
    appliedVersion: applied,
    failedVersion: failed,
    error: failed !== null ? (row?.error ?? null) : null,
    reportedAt: row ? new Date(Number(row.reported_at)).toISOString() : null,
  };
}
