import { Injectable } from '@nestjs/common';
import { AgentJwt } from '@app/contracts';
import { Clock } from '@app/clock';
import { agentUserClaims, signUserJwt } from '@app/nats-auth';
import { TokensConfig } from '../config';
import { BusSigningKeys } from './bus-signing-keys';

export interface AgentJwtSubject {
  environment: string;
  agentId: string;
  publicKey: string;
  name: string;
}

/** Signs agents' NATS user JWTs with the AGENTS account's signing key; nothing else holds that key. */
@Injectable()
export class AgentJwtSigner {
  constructor(
    private readonly keys: BusSigningKeys,
    private readonly config: TokensConfig,
    private readonly clock: Clock,
  ) {}

  get ttlMs(): number {
    return this.config.AGENT_JWT_TTL_SECONDS * 1000;
  }

  async sign(subject: AgentJwtSubject): Promise<AgentJwt & { expiresAtMs: number }> {
    // JWT times are whole seconds: report exactly the expiry the JWT carries.
    const expiresAtMs = Math.floor((this.clock.now() + this.ttlMs) / 1000) * 1000;
    const jwt = await signUserJwt({
      // The JWT's name is the agent id: nats-server logs and `connz` then say which agent a connection is.
      name: subject.agentId,
      user: subject.publicKey,
      account: this.keys.agentsAccount,
      signer: this.keys.agentsSigningKey,
      claims: agentUserClaims(subject.environment, subject.agentId),
      expiresAtMs,
    });
    return { jwt, expiresAt: new Date(expiresAtMs).toISOString(), expiresAtMs };
  }
}
