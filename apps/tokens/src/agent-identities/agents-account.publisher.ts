import { readFileSync } from 'node:fs';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { connect, credsAuthenticator, JSONCodec, NatsConnection } from 'nats';
import { Clock } from '@app/clock';
import { agentsAccountJwt } from '@app/nats-auth';
import { TokensConfig } from '../config';
import { AgentIdentitiesRepository } from './agent-identities.repository';
import { BusSigningKeys } from './bus-signing-keys';

/** nats-server's full resolver takes account JWT updates here (system account only). */
const CLAIMS_UPDATE_SUBJECT = '$SYS.REQ.CLAIMS.UPDATE';
/** A revoked key stays on the list this long past its last JWT's possible expiry. */
const REVOCATION_MARGIN_MS = 3600_000;
/** How long a revocation waits for NATS before answering; the push goes on in the background. */
export const REVOCATION_PUSH_WAIT_MS = 3000;
const RETRY_MS = 2000;

const json = JSONCodec<{
  data?: { code?: number; message?: string };
  error?: { code?: number; description?: string };
}>();

/**
 * Keeps nats-server's copy of the AGENTS account in step with the revocations in the database: the
 * account JWT lists every key revoked within the last JWT lifetime, so the server closes those
 * connections and refuses their JWTs. Pushed at start (the database is the truth) and after every
 * revocation; pushes never overlap and the latest state always wins.
 */
@Injectable()
export class AgentsAccountPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AgentsAccountPublisher.name);
  private nc?: NatsConnection;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly keys: BusSigningKeys,
    private readonly identities: AgentIdentitiesRepository,
    private readonly config: TokensConfig,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.keys.secured) return;
    const credsFile = this.keys.systemCredsFile as string;
    this.nc = await connect({
      servers: this.config.NATS_URL.split(',').map((s) => s.trim()),
      name: 'tokens-account-updates',
      authenticator: credsAuthenticator(() => readFileSync(credsFile)),
      tls: this.config.NATS_CA_FILE ? { caFile: this.config.NATS_CA_FILE } : undefined,
      inboxPrefix: '_INBOX_account-updates',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      waitOnFirstConnect: true,
      ignoreAuthErrorAbort: true,
    });
    void this.publish();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.nc?.close().catch(() => undefined);
  }

  /** Resolves once the server has the current revocation list (retries in the background until then). */
  publish(): Promise<void> {
    if (!this.nc) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pushUntilAccepted().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.publish();
      }
    });
    return this.running;
  }

  private async pushUntilAccepted(): Promise<void> {
    for (;;) {
      try {
        await this.push();
        return;
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn({ err: error }, 'could not update the AGENTS account on NATS; retrying');
        await new Promise((resolve) => (this.retryTimer = setTimeout(resolve, RETRY_MS)));
        if (this.stopped) return;
      }
    }
  }

  private async push(): Promise<void> {
    const since = this.clock.now() - this.config.AGENT_JWT_TTL_SECONDS * 1000 - REVOCATION_MARGIN_MS;
    const revocations: Record<string, number> = {};
    for (const row of await this.identities.revokedSince(since)) {
      // A JWT issued up to the revocation second is refused (nats-server compares issued-at ≤ this).
      const at = Math.ceil(Number(row.revoked_at) / 1000);
      revocations[row.public_key] = Math.max(revocations[row.public_key] ?? 0, at);
    }
    const jwt = await agentsAccountJwt(this.keys.agentsAccount, this.keys.operatorSigningKey, {
      platformAccount: this.keys.platformAccount,
      signingKey: this.keys.agentsSigningKey.getPublicKey(),
      revocations,
    });
    const reply = json.decode(
      (await this.nc!.request(CLAIMS_UPDATE_SUBJECT, new TextEncoder().encode(jwt), { timeout: 5000 })).data,
    );
    if (reply.error || reply.data?.code !== 200) {
      throw new Error(
        `nats-server refused the account update: ${reply.error?.description ?? reply.data?.message ?? 'no reason'}`,
      );
    }
    this.logger.log({ revoked: Object.keys(revocations).length }, 'AGENTS account updated on NATS');
  }
}
