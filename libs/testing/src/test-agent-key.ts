import { createHash } from 'node:crypto';
import { createUser, KeyPair } from 'nkeys.js';
import {
  AGENT_SIGNATURE_HEADER,
  AgentKeyClaim,
  AgentStatements,
  formatAgentSignatureHeader,
  RenewAgentJwtRequest,
  signStatement,
} from '@app/contracts';

/** An agent's key as tests use it: the enrollment claim, signed intake headers, renewal requests. */
export class TestAgentKey {
  /** A fresh key, or one an agent saved (`fromSeed(<state dir>/agent.nk)`): the test then speaks as that agent. */
  constructor(readonly key: KeyPair = createUser()) {}

  get publicKey(): string {
    return this.key.getPublicKey();
  }

  /** The `identity` of an EnrollRequest for `hostId`; `handoverFrom` signs a re-enrollment with the old key. */
  claim(hostId: string, handoverFrom?: { agentId: string; key: TestAgentKey }): AgentKeyClaim {
    return {
      publicKey: this.publicKey,
      proof: signStatement(this.key, AgentStatements.enroll(this.publicKey, hostId)),
      ...(handoverFrom
        ? {
            handover: {
              agentId: handoverFrom.agentId,
              signature: signStatement(
                handoverFrom.key.key,
                AgentStatements.handover(handoverFrom.agentId, this.publicKey),
              ),
            },
          }
        : {}),
    };
  }

  /** Headers of a signed intake request (`route`: heartbeat, metrics) carrying exactly `body`. */
  signedHeaders(agentId: string, route: string, body: string, signedAt = Date.now()): Record<string, string> {
    const digest = createHash('sha256').update(body).digest('hex');
    const signature = signStatement(this.key, AgentStatements.request('POST', route, signedAt, digest));
    return {
      [AGENT_SIGNATURE_HEADER]: formatAgentSignatureHeader(agentId, signedAt, signature),
      'content-type': 'application/json',
    };
  }

  renewRequest(agentId: string, signedAt = Date.now()): RenewAgentJwtRequest {
    return {
      agentId,
      publicKey: this.publicKey,
      signedAt,
      signature: signStatement(this.key, AgentStatements.renew(agentId, this.publicKey, signedAt)),
    };
  }
}
