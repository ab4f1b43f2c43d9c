import { Injectable } from '@nestjs/common';
import {
  BULK_SAMPLE_SIZE,
  BulkAgentAction,
  BulkAgentFailure,
  BulkAgentsRequest,
  BulkAgentsResult,
  DomainError,
  ErrorCodes,
  MAX_BULK_AGENTS,
  ValidationFailedError,
} from '@app/contracts';
import { checkSettings, ConfigsService } from '../configs/configs.service';
import { AgentsRepository } from '../registry/agents.repository';
import { parseLabelFilter, RegistryService } from '../registry/registry.service';
import { AgentLifecycleService } from './agent-lifecycle.service';
import { applyLabelChanges } from './label-changes';

/** Agents changed at once: revocations wait on the token service's push to NATS, so some overlap pays. */
const BULK_CONCURRENCY = 8;

/** One bulk action applied to one agent; each call audits that agent on its own. */
type AgentAction = (organizationId: string, agentId: string, actor: string) => Promise<unknown>;

/**
 * Bulk actions over the agents list's filters: the same filter selects the same agents as
 * `GET /agents`, a dry run counts them, and each selected agent is changed (and audited) on its own.
 * A new action (e.g. `assign_config`) is one more entry in `actionFor` and in `BulkAgentActions`.
 */
@Injectable()
export class BulkActionsService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly registry: RegistryService,
    private readonly lifecycle: AgentLifecycleService,
    private readonly configs: ConfigsService,
  ) {}

  async apply(request: BulkAgentsRequest): Promise<BulkAgentsResult> {
    const action = this.actionFor(request);
    const { filter } = request;
    const { rows, total } = await this.agents.list(request.organizationId, {
      environment: filter.environment,
      status: filter.status,
      type: filter.type,
      search: filter.search,
      label: filter.label === undefined ? undefined : parseLabelFilter(filter.label),
      // Oldest first, so a refused request's sample shows the same agents each time.
      sort: { key: 'first_seen_at', descending: false },
      limit: MAX_BULK_AGENTS,
      offset: 0,
    });
    const result: BulkAgentsResult = {
      action: request.action,
      dryRun: request.dryRun === true,
      matched: total,
      sampleIds: rows.slice(0, BULK_SAMPLE_SIZE).map((row) => row.id),
      done: 0,
      failed: 0,
      failures: [],
    };
    if (result.dryRun) return result;
    if (total > MAX_BULK_AGENTS) {
      // All or nothing: half a fleet revoked by a filter that was too wide is worse than none.
      throw new ValidationFailedError([
        {
          field: 'filter',
          reason: `selects ${total} agents; at most ${MAX_BULK_AGENTS} per request: narrow the filter`,
        },
      ]);
    }
    const actor = request.actor ?? 'system';
    const ids = rows.map((row) => row.id);
    for (let i = 0; i < ids.length; i += BULK_CONCURRENCY) {
      const slice = ids.slice(i, i + BULK_CONCURRENCY);
      const outcomes = await Promise.allSettled(
        slice.map((agentId) => action(request.organizationId, agentId, actor)),
      );
      outcomes.forEach((outcome, index) => {
        if (outcome.status === 'fulfilled') result.done++;
        else result.failures.push(toFailure(slice[index], outcome.reason));
      });
    }
    result.failed = result.failures.length;
    return result;
  }

  /** The per-agent change of the request's action, with its parameters checked once up front. */
  private actionFor(request: BulkAgentsRequest): AgentAction {
    const action: BulkAgentAction = request.action;
    switch (action) {
      case 'revoke':
        if (request.labels) {
          throw new ValidationFailedError([{ field: 'labels', reason: 'only with action relabel' }]);
        }
        if (request.config) {
          throw new ValidationFailedError([{ field: 'config', reason: 'only with action assign_config' }]);
        }
        return (organizationId, agentId, actor) => this.registry.revoke(organizationId, agentId, actor);
      case 'relabel': {
        const changes = request.labels;
        if (!changes) throw new ValidationFailedError([{ field: 'labels', reason: 'required for relabel' }]);
        // Checked on an empty set, so a bad key fails the request before any agent is touched.
        applyLabelChanges({}, changes, 'labels');
        return (organizationId, agentId, actor) =>
          this.lifecycle.updateLabels(organizationId, agentId, changes, actor, 'labels');
      }
      case 'assign_config': {
        const config = request.config;
        if (!config)
          throw new ValidationFailedError([{ field: 'config', reason: 'required for assign_config' }]);
        if (request.labels) {
          throw new ValidationFailedError([{ field: 'labels', reason: 'only with action relabel' }]);
        }
        // Checked once up front, so a bad label fails the request before any agent is touched.
        checkSettings(config, 'config');
        return (organizationId, agentId, actor) =>
          this.configs.saveOverride(organizationId, agentId, config, actor);
      }
    }
  }
}

function toFailure(agentId: string, error: unknown): BulkAgentFailure {
  if (error instanceof DomainError) return { agentId, code: error.code, message: error.message };
  return {
    agentId,
    code: ErrorCodes.INTERNAL,
    message: error instanceof Error ? error.message : String(error),
  };
}
