import { mkdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfigDocument } from '@app/contracts';

/**
 * What the agent keeps between restarts, in `<stateDir>/state.json` (mode 0600). Its key is in
 * `agent.nk` beside it (AgentKeyStore); the JWT here is useless without that key.
 */
export interface AgentState {
  agentId: string;
  environment: string;
  organizationId: string;
  /** The NATS user JWT the platform signed for the agent's key, and when it expires (ISO). */
  jwt: string;
  jwtExpiresAt: string;
  /** Generated once when the host offers no stable machine id. */
  hostId?: string;
  /**
   * Metrics sequence numbers below this are reserved by an earlier run: a restart starts here, so a
   * `Nats-Msg-Id` is never reused (see AgentSequence).
   */
  seqCeiling?: number;
  /** Set when the platform revoked this agent: a restart exits at once instead of looping. */
  revokedAt?: string;
  /**
   * The last remote configuration applied, applied again at the next start: a configuration rejected while
   * the agent was down must leave it on this one, not on its start-up settings.
   */
  config?: AgentConfigDocument;
}

export class AgentStateStore {
  readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'state.json');
  }

  /** The saved state, or null when the agent never enrolled (or the file is unreadable garbage). */
  load(): AgentState | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<AgentState>;
    if (!parsed.agentId || !parsed.environment || !parsed.organizationId) {
      throw new Error(`${this.file} is incomplete; delete it to enroll again`);
    }
    // Written by an agent before 0.2 (a shared-secret credential, no key): it must enroll again.
    if (!parsed.jwt) return null;
    return parsed as AgentState;
  }

  /** Written to a temp file and renamed over the old one, so a crash never leaves half a file. */
  save(state: AgentState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(state, null, 2), { mode: 0o600 });
    // writeFileSync's mode only applies when it creates the file; a leftover temp file keeps its own.
    chmodSync(temp, 0o600);
    renameSync(temp, this.file);
  }
}
