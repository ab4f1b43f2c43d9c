import { Injectable } from '@nestjs/common';
import { dirname, join, resolve } from 'node:path';
import { DomainError, ErrorCodes } from '@app/contracts';
import { GatewayConfig } from '../config';
import { AgentPackageSource, agentBuildExists, packAgent } from './agent-package';

/** The agent package served at /downloads/rca-agent.tgz: packed on first request, then kept in memory. */
@Injectable()
export class AgentDownloads {
  private packed?: Promise<Buffer>;
  private readonly source: AgentPackageSource;

  constructor(config: GatewayConfig) {
    const distDir = resolve(config.AGENT_DIST_DIR);
    this.source = { distDir, packageJson: join(dirname(distDir), 'package.json') };
  }

  async agentPackage(): Promise<Buffer> {
    if (!agentBuildExists(this.source)) {
      throw new DomainError(
        ErrorCodes.NOT_FOUND,
        `no built agent under ${this.source.distDir} on this gateway (run npm run build, or set AGENT_DIST_DIR)`,
      );
    }
    this.packed ??= packAgent(this.source).catch((error: unknown) => {
      this.packed = undefined;
      throw error;
    });
    return this.packed;
  }
}
