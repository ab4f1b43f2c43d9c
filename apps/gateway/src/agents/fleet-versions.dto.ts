import { ApiProperty } from '@nestjs/swagger';
import { AgentUpgrade, BehindAgent, FleetVersionsResult, VersionCount } from '@app/contracts';
import { SnakeCased } from '../live/snake-case';

export class VersionCountView implements SnakeCased<VersionCount> {
  @ApiProperty({ example: '0.1.0' }) version!: string;
  @ApiProperty({ example: 'docker' }) type!: string;
  @ApiProperty({ example: 12 }) count!: number;
  @ApiProperty({ example: true, description: "Older than the platform's own agent build" }) behind!: boolean;
}

export class BehindAgentView implements SnakeCased<BehindAgent> {
  @ApiProperty({ example: 'ag_fH2E2Vwna1pJYKU3' }) id!: string;
  @ApiProperty({ example: 'web-1' }) hostname!: string;
  @ApiProperty({ example: 'server' }) type!: string;
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({ example: '0.0.9' }) version!: string;
}

export class BehindView {
  @ApiProperty({ example: 3, description: 'Agents (not revoked) older than the current build' })
  count!: number;
  @ApiProperty({ type: [BehindAgentView], description: 'The first 100 of them, by hostname' })
  agents!: BehindAgentView[];
}

export class AgentUpgradeView implements SnakeCased<AgentUpgrade> {
  @ApiProperty({ example: 'server' }) type!: string;
  @ApiProperty({
    example: true,
    description: 'The command upgrades in place, keeping the agent (server); otherwise it is the first step',
  })
  in_place!: boolean;
  @ApiProperty({
    example: `(f=$(mktemp) && trap 'rm -f "$f"' EXIT && curl -fsSL https://rca.example.com/install.sh -o "$f" && printf '%s\\n' "$RCA_TOKEN" | sudo sh "$f" --token-file - --nats-url tls://nats.example.com:4222 --platform-url https://rca.example.com --log-level info --bundle-sha256 3f5a…)`,
    description: "What to run on the agent's host or against its cluster; the platform runs nothing remotely",
  })
  command!: string;
  @ApiProperty({ type: [String], example: ["Re-running the installer replaces the agent's program…"] })
  notes!: string[];
}

/** `GET /api/v1/fleet/versions`. */
export class FleetVersionsView implements SnakeCased<FleetVersionsResult> {
  @ApiProperty({ example: '0.1.0', description: 'The agent build this platform ships' }) current!: string;
  @ApiProperty({ type: [VersionCountView], description: 'Agents per version and type, most common first' })
  versions!: VersionCountView[];
  @ApiProperty({ type: BehindView }) behind!: BehindView;
  @ApiProperty({ type: [AgentUpgradeView], description: 'How to upgrade each type that is behind' })
  upgrade!: AgentUpgradeView[];
}
