import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock, PeriodicJob } from '@app/clock';
import { isDependencyUnavailable } from '@app/contracts';
import { ProvisioningConfig } from '../config';
import { FleetSettingsRepository } from '../settings/fleet-settings.repository';
import { AgentLifecycleRepository } from './agent-lifecycle.repository';
import { AgentLifecycleService } from './agent-lifecycle.service';

const DAY_MS = 86_400_000;
/** Agents one organisation's pass retires at most: a first run over a large, long-neglected fleet is spread out. */
const AGENTS_PER_ORGANIZATION_PER_RUN = 200;

/**
 * Every INACTIVE_AGENT_CLEANUP_INTERVAL_SECONDS, revokes and deletes the agents of each organisation
 * that set `inactiveAgentCleanupDays`, once they are offline (or revoked) and unheard for longer. Every
 * instance runs it; each agent's revoke and delete are compare-and-sets, so one of them does each.
 */
@Injectable()
export class InactiveAgentCleanup implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InactiveAgentCleanup.name);
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly settings: FleetSettingsRepository,
    private readonly candidates: AgentLifecycleRepository,
    private readonly lifecycle: AgentLifecycleService,
    private readonly clock: Clock,
    config: ProvisioningConfig,
  ) {
    this.job = new PeriodicJob({
      everySeconds: config.INACTIVE_AGENT_CLEANUP_INTERVAL_SECONDS,
      pass: () => this.pass(),
      logger: this.logger,
      failureMessage: 'inactive-agent cleanup failed',
      unref: true,
    });
  }

  onApplicationBootstrap(): void {
    this.job.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  /** One pass over every organisation with the setting on; resolves with how many agents it deleted. */
  run(): Promise<number> {
    return this.job.run();
  }

  private async pass(): Promise<number> {
    let deleted = 0;
    for (const org of await this.settings.withInactiveAgentCleanup()) {
      const cutoff = this.clock.now() - Number(org.inactive_agent_cleanup_days) * DAY_MS;
      const agents = await this.candidates.inactiveSince(
        org.organization_id,
        cutoff,
        AGENTS_PER_ORGANIZATION_PER_RUN,
      );
      for (const agent of agents) {
        try {
          if (await this.lifecycle.retireInactive(org.organization_id, agent, cutoff)) deleted++;
        } catch (error) {
          // One agent failing (the token service away) must not stop the others; the next run retries it.
          if (isDependencyUnavailable(error)) throw error;
          this.logger.warn({ err: error, agentId: agent.id }, 'could not retire an inactive agent');
        }
      }
    }
    if (deleted) this.logger.log({ deleted }, 'inactive agents deleted');
    return deleted;
  }
}
