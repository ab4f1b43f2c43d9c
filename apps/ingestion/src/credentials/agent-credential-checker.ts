import { CachedTokenVerifier } from '@app/auth';
import { DomainError, ErrorCodes, parseToken, VerifiedToken } from '@app/contracts';

/** Why a message was not counted; the label of `rejected_total{reason}` and the dead-letter reason. */
export const RejectReasons = {
  invalidSubject: 'invalid_subject',
  missingCredential: 'missing_credential',
  malformed: 'malformed',
  unknown: 'unknown',
  revoked: 'revoked',
  expired: 'expired',
  wrongKind: 'wrong_kind',
  /** A valid agent credential, but for another environment or agent than the subject names. */
  mismatch: 'mismatch',
  invalidPayload: 'invalid_payload',
  /** The token service did not answer (timeout, no responders): not the message's fault. */
  unverifiable: 'unverifiable',
  /** Metrics only: the database refused this batch repeatedly while accepting others. */
  storageRejected: 'storage_rejected',
} as const;
export type RejectReason = (typeof RejectReasons)[keyof typeof RejectReasons];

export type CredentialOutcome = { ok: true; token: VerifiedToken } | { ok: false; reason: RejectReason };

const REASON_BY_CODE: Partial<Record<string, RejectReason>> = {
  [ErrorCodes.TOKEN_MALFORMED]: RejectReasons.malformed,
  [ErrorCodes.TOKEN_UNKNOWN]: RejectReasons.unknown,
  [ErrorCodes.TOKEN_REVOKED]: RejectReasons.revoked,
  [ErrorCodes.TOKEN_EXPIRED]: RejectReasons.expired,
  [ErrorCodes.TOKEN_WRONG_KIND]: RejectReasons.wrongKind,
};

/**
 * Decides whether a credential may speak for `agents.<environment>.<agentId>`. Answers
 * synchronously when the verifier's cache knows the credential (the common case on the hot
 * path), and with a promise only when the token service has to be asked.
 */
export class AgentCredentialChecker {
  constructor(private readonly verifier: CachedTokenVerifier) {}

  check(
    credential: string | undefined,
    environment: string,
    agentId: string,
  ): CredentialOutcome | Promise<CredentialOutcome> {
    if (!credential) return { ok: false, reason: RejectReasons.missingCredential };
    const cached = this.verifier.peek(credential);
    if (cached instanceof DomainError) return fromError(cached);
    if (cached) return matchSubject(cached, environment, agentId);
    // The checksum rejects typos and forgeries without a round trip.
    const parsed = parseToken(credential);
    if (!parsed) return { ok: false, reason: RejectReasons.malformed };
    if (parsed.kind !== 'agent') return { ok: false, reason: RejectReasons.wrongKind };
    return this.verifier.verify(credential, 'agent').then(
      (token) => matchSubject(token, environment, agentId),
      (error: unknown) => fromError(error),
    );
  }
}

function matchSubject(token: VerifiedToken, environment: string, agentId: string): CredentialOutcome {
  if (token.kind !== 'agent') return { ok: false, reason: RejectReasons.wrongKind };
  if (token.environment !== environment || token.agentId !== agentId)
    return { ok: false, reason: RejectReasons.mismatch };
  return { ok: true, token };
}

function fromError(error: unknown): CredentialOutcome {
  const reason = error instanceof DomainError ? REASON_BY_CODE[error.code] : undefined;
  return { ok: false, reason: reason ?? RejectReasons.unverifiable };
}
