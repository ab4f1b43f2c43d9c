import { Injectable } from '@nestjs/common';
import { AGENT_VERSION } from '@app/agent-core';
import { FleetVersionsResult, MAX_BEHIND_AGENTS_LISTED } from '@app/contracts';
import { ProvisioningConfig } from '../config';
import { compareVersions, upgradeInstructions } from './upgrade-instructions';
import { VersionsRepository } from './versions.repository';

/** The versions an organisation's agents run, against the agent build this platform ships. */
@Injectable()
export class VersionsService {
  constructor(
    private readonly versions: VersionsRepository,
    private readonly config: ProvisioningConfig,
  ) {}

  async summarize(organizationId: string, current = AGENT_VERSION): Promise<FleetVersionsResult> {
    const counts = (await this.versions.countByVersion(organizationId))
      .map((c) => ({ ...c, behind: compareVersions(c.version, current) < 0 }))
      .sort(
        (a, b) => b.count - a.count || compareVersions(b.version, a.version) || a.type.localeCompare(b.type),
      );
    const behind = counts.filter((c) => c.behind);
    const behindVersions = [...new Set(behind.map((c) => c.version))];
    const typesBehind = [...new Set(behind.map((c) => c.type))];
    const types = typesBehind.length ? typesBehind : [...new Set(counts.map((c) => c.type))];
    const input = {
      platformUrl: this.config.PUBLIC_URL,
      natsUrl: this.config.agentNatsUrl,
      agentImage: this.config.AGENT_IMAGE,
      caPin: this.config.platformCaPin,
      artifacts: this.config.agentArtifacts,
    };
    return {
      current,
      versions: counts,
      behind: {
        count: behind.reduce((sum, c) => sum + c.count, 0),
        agents: await this.versions.agentsRunning(organizationId, behindVersions, MAX_BEHIND_AGENTS_LISTED),
      },
      upgrade: types.sort().map((type) => upgradeInstructions(type, input)),
    };
  }
}
