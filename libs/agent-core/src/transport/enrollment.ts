import { Logger } from 'pino';
import { DomainError, EnrollReply, EnrollRequest, ErrorCodes } from '@app/contracts';
import { AgentExitCodes, AgentFatalError } from '../agent-exit-codes';
import { PlatformClient } from './platform-client';

/** Refusals no retry can fix: the token itself is bad, or the request is. */
const FATAL_ENROLL_CODES = new Set<string>([
  ErrorCodes.TOKEN_REVOKED,
  ErrorCodes.TOKEN_EXPIRED,
  ErrorCodes.TOKEN_EXHAUSTED,
  ErrorCodes.TOKEN_MALFORMED,
  ErrorCodes.TOKEN_UNKNOWN,
  ErrorCodes.TOKEN_WRONG_KIND,
  ErrorCodes.VALIDATION_FAILED,
  ErrorCodes.UNKNOWN_AGENT_TYPE,
  ErrorCodes.FORBIDDEN,
  ErrorCodes.AGENT_REVOKED,
  ErrorCodes.SIGNATURE_INVALID,
]);
/** Retry backoff: doubles from 1 s up to this cap, with ±20 % jitter. */
const MAX_ENROLL_BACKOFF_MS = 30_000;

export function enrollBackoffMs(attempt: number, random: () => number): number {
  return Math.min(1000 * 2 ** attempt, MAX_ENROLL_BACKOFF_MS) * (0.8 + 0.4 * random());
}

/**
 * Enrolls over the gateway's intake, retrying transport failures (unreachable, timeout, 5xx) forever
 * with backoff; a refusal is an AgentFatalError (exit 77) because no retry can fix it.
 */
export async function enrollWithRetry(
  platform: Pick<PlatformClient, 'enroll'>,
  token: string,
  request: EnrollRequest,
  options: { log: Logger; random: () => number; stopped: () => boolean },
): Promise<EnrollReply> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await platform.enroll(token, request);
    } catch (error) {
      if (error instanceof DomainError && FATAL_ENROLL_CODES.has(error.code)) {
        throw new AgentFatalError(
          AgentExitCodes.enrollmentRefused,
          `enrollment refused (${error.code}): ${error.message}`,
        );
      }
      const delay = enrollBackoffMs(attempt, options.random);
      options.log.warn({ err: error, retryInMs: Math.round(delay) }, 'enrollment failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
      if (options.stopped())
        throw new AgentFatalError(AgentExitCodes.ok, 'stopped before enrollment completed');
    }
  }
}
