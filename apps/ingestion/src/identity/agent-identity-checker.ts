import { AgentDirectory } from '@app/auth';
import { AgentIdentityRecord } from '@app/contracts';

/** Why a message was not counted; the label of `rejected_total{reason}` and the dead-letter reason. */
export const RejectReasons = {
  invalidSubject: 'invalid_subject',
  /** No agent with that id was ever enrolled. */
  unknown: 'unknown',
  revoked: 'revoked',
  /** The agent exists, but in another environment than the subject names. */
  mismatch: 'mismatch',
  invalidPayload: 'invalid_payload',
  /** The token service did not answer (timeout, no responders): not the message's fault. */
  unverifiable: 'unverifiable',
  /** Metrics only: the database refused this batch repeatedly while accepting others. */
  storageRejected: 'storage_rejected',
} as const;
export type RejectReason = (typeof RejectReasons)[keyof typeof RejectReasons];

export type IdentityOutcome = { ok: true; organizationId: string } | { ok: false; reason: RejectReason };

/**
 * Whose agent sent a message on `agents.<environment>.<agentId>.…`. That the sender *is* that agent
 * was settled by NATS (an agent's JWT allows publishing only its own subjects; the gateway publishes
 * there only for requests it verified), so what is left is to find the agent's organisation and check
 * that it is still enrolled in that environment. Answers synchronously from the directory's cache in
 * the common case, and with a promise only when the token service has to be asked.
 */
export class AgentIdentityChecker {
  constructor(private readonly directory: AgentDirectory) {}

  check(environment: string, agentId: string): IdentityOutcome | Promise<IdentityOutcome> {
    const cached = this.directory.peek(agentId);
    if (cached !== undefined) return judge(cached, environment);
    return this.directory.lookup(agentId).then(
      (record) => judge(record, environment),
      (): IdentityOutcome => ({ ok: false, reason: RejectReasons.unverifiable }),
    );
  }
}

function judge(record: AgentIdentityRecord | null, environment: string): IdentityOutcome {
  if (!record) return { ok: false, reason: RejectReasons.unknown };
  if (record.revoked) return { ok: false, reason: RejectReasons.revoked };
  if (record.environment !== environment) return { ok: false, reason: RejectReasons.mismatch };
  return { ok: true, organizationId: record.organizationId };
}
