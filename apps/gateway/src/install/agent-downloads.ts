import { Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AgentArtifact, readAgentArtifacts } from '@app/agent-core';
import { DomainError, ErrorCodes } from '@app/contracts';
import { GatewayConfig } from '../config';

/** What install.sh / install.ps1 download: which build file answers which download. */
export type AgentDownload = 'bundle' | 'linux-x64' | 'lambda-layer';

/**
 * The agent build's files (`npm run build:agent`, under AGENT_DIST_DIR) served as they are: the bytes
 * whose SHA-256 the generated commands pin. Read on each request so a rebuild needs no restart.
 */
@Injectable()
export class AgentDownloads {
  private readonly dir: string;

  constructor(config: GatewayConfig) {
    this.dir = resolve(config.AGENT_DIST_DIR);
  }

  file(download: AgentDownload): { artifact: AgentArtifact; data: Buffer } {
    const artifacts = readAgentArtifacts(this.dir);
    const artifact =
      download === 'bundle'
        ? artifacts?.bundle
        : download === 'lambda-layer'
          ? artifacts?.lambdaLayer
          : artifacts?.binaries[download];
    if (!artifact) {
      throw new DomainError(
        ErrorCodes.NOT_FOUND,
        `no agent ${download} build under ${this.dir} on this gateway (run npm run build:agent, or set AGENT_DIST_DIR)`,
      );
    }
    return { artifact, data: readFileSync(join(this.dir, artifact.file)) };
  }
}
