/** `fleet.versions` (request: OrganizationScopedRequest): which agent versions run across the fleet. */

/** Most agents listed by name as behind; the count covers them all. */
export const MAX_BEHIND_AGENTS_LISTED = 100;

export interface VersionCount {
  version: string;
  type: string;
  count: number;
  /** Older than the platform's own agent build. */
  behind: boolean;
}

export interface BehindAgent {
  id: string;
  hostname: string;
  type: string;
  environment: string;
  version: string;
}

/** How to bring one agent type to the platform's build; nothing is run remotely. */
export interface AgentUpgrade {
  type: string;
  /** True when the command upgrades in place and keeps the agent's identity (its state). */
  inPlace: boolean;
  /** What to run on the agent's host (or against its cluster). */
  command: string;
  notes: string[];
}

export interface FleetVersionsResult {
  /** The agent build this platform ships (libs/agent-core/src/version.ts). */
  current: string;
  /** Agents not revoked, per version and type, most common first. */
  versions: VersionCount[];
  behind: {
    count: number;
    /** The first MAX_BEHIND_AGENTS_LISTED of them, by hostname. */
    agents: BehindAgent[];
  };
  /** One per agent type running behind (every type when none is). */
  upgrade: AgentUpgrade[];
}
