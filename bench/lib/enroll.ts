import { enrollBackoffMs } from '@app/agent-core';
import {
  DomainError,
  EnrollReply,
  EnrollRequest,
  ErrorCodes,
  Headers,
  PROTOCOL_VERSION,
  ProvisionResult,
  Subjects,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { TestAgentKey } from '@app/testing';
import { quantile } from './harness';

/** An enrollment token for `environment` through the provisioning service (what POST /agent/provision does). */
export async function provisionToken(
  rpc: RpcClient,
  organizationId: string,
  environment: string,
): Promise<string> {
  const result = await rpc.request<ProvisionResult>(Subjects.provisioning.provision, {
    organizationId,
    agentType: 'server',
    environmentName: environment,
    actor: 'bench',
  });
  return result.enrollmentToken;
}

/** What an agent sends: its host and a key it generated, with the proof (each agent its own key). */
export function enrollRequest(hostId: string): EnrollRequest {
  return {
    agentType: 'server',
    agentVersion: '0.1.0',
    host: { hostname: `bench-${hostId}`, hostId, os: 'linux', osVersion: 'Debian GNU/Linux 12', arch: 'x64' },
    labels: { bench: 'true' },
    identity: new TestAgentKey().claim(hostId),
  };
}

export interface StormResult {
  enrolled: number;
  /** Agents that enrolled on their first attempt. */
  firstAttempt: number;
  attempts: number;
  /** Agents still not enrolled when the deadline passed, or refused for good. */
  failed: number;
  firstFailure?: string;
  /** Until the last agent enrolled (or the deadline). */
  seconds: number;
  /** Per agent, from its first attempt to its successful reply, retries included. */
  p50Ms: number;
  p99Ms: number;
}

/** What the real agent does (libs/agent-core enrollWithRetry): 5 s request timeout, retry transport failures with backoff. */
const AGENT_RPC_TIMEOUT_MS = 5_000;
/** Refusals the agent never retries (the token or request is bad). */
const FATAL = new Set<string>([
  ErrorCodes.TOKEN_REVOKED,
  ErrorCodes.TOKEN_EXPIRED,
  ErrorCodes.TOKEN_EXHAUSTED,
  ErrorCodes.TOKEN_MALFORMED,
  ErrorCodes.TOKEN_UNKNOWN,
  ErrorCodes.TOKEN_WRONG_KIND,
  ErrorCodes.VALIDATION_FAILED,
  ErrorCodes.UNKNOWN_AGENT_TYPE,
]);

/**
 * `count` agents send `agents.enroll` at the same instant (each a distinct host), each
 * behaving like the real agent: a 5 s request timeout, then retries with the agent's own
 * backoff (1 s doubling to 30 s, ±20 % jitter). Bounded by `deadlineMs`.
 */
export async function enrollmentStorm(
  rpc: RpcClient,
  token: string,
  count: number,
  hostPrefix: string,
  deadlineMs = 180_000,
): Promise<StormResult> {
  const latencies: number[] = [];
  let firstAttempt = 0;
  let attempts = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const start = performance.now();
  const deadline = start + deadlineMs;
  let lastDone = start;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const request = enrollRequest(`${hostPrefix}-${i}`);
      for (let attempt = 0; performance.now() < deadline; attempt++) {
        attempts++;
        try {
          await rpc.request<EnrollReply>(Subjects.enroll, request, {
            headers: {
              [Headers.enrollmentToken]: token,
              [Headers.protocolVersion]: String(PROTOCOL_VERSION),
            },
            timeoutMs: AGENT_RPC_TIMEOUT_MS,
          });
          if (attempt === 0) firstAttempt++;
          lastDone = performance.now();
          latencies.push(lastDone - start);
          return;
        } catch (error) {
          firstFailure ??= error instanceof Error ? error.message : String(error);
          if (error instanceof DomainError && FATAL.has(error.code)) break;
          await new Promise((r) => setTimeout(r, enrollBackoffMs(attempt, Math.random)));
        }
      }
      failed++;
    }),
  );
  const sorted = latencies.sort((a, b) => a - b);
  return {
    enrolled: latencies.length,
    firstAttempt,
    attempts,
    failed,
    firstFailure,
    seconds: ((failed ? performance.now() : lastDone) - start) / 1000,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
  };
}
