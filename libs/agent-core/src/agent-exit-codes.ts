/** Process exit codes of the agent; documented in docs/agent.md. */
export const AgentExitCodes = {
  ok: 0,
  failure: 1,
  /** EX_USAGE: bad flags, variables or type configuration. */
  badConfig: 64,
  /** EX_NOPERM: the platform refused the enrollment token (revoked, expired, exhausted, malformed, unknown). */
  enrollmentRefused: 77,
  /** EX_CONFIG: the platform revoked this agent. */
  revoked: 78,
} as const;

/** A stop the agent must not retry; `exitCode` is what the process should exit with. */
export class AgentFatalError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'AgentFatalError';
  }
}
