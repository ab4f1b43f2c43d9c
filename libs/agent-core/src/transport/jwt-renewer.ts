import { KeyPair } from 'nkeys.js';
import { Logger } from 'pino';
import { AgentJwt, DomainError, ErrorCodes } from '@app/contracts';
import { AgentIdentity } from './agent-wire';
import { PlatformClient } from './platform-client';

/** Renew when this share of the JWT's remaining life has passed (jittered ±10 % so a fleet spreads out). */
const RENEW_AT_SHARE = 0.5;
/** Retry a failed renewal after this (doubling), but never later than a quarter of the time left. */
const RETRY_MIN_MS = 5_000;
const RETRY_MAX_MS = 300_000;
/** After the server refused the agent, ask the platform over HTTP at most this often. */
const REFUSAL_CHECK_INTERVAL_MS = 15_000;

/** What the renewer needs from the NATS link (NatsAgentWire). */
export interface RenewableLink {
  renewJwt(identity: AgentIdentity): Promise<AgentJwt>;
  reauthenticate(): Promise<void>;
  isClosed(): boolean;
}

export interface JwtRenewerOptions {
  identity: AgentIdentity;
  key: KeyPair;
  platform: Pick<PlatformClient, 'renew'>;
  log: Logger;
  clock: () => number;
  random: () => number;
  /** The JWT in use now. */
  current(): { jwt: string; expiresAt: string };
  /** Keep the new JWT (state.json) before it is used. */
  save(jwt: AgentJwt): void;
  /** The platform says this agent is revoked: stop for good. */
  onRevoked(reason: string): void;
}

/**
 * Keeps the agent's NATS user JWT fresh without a restart: halfway through its life it asks for a new
 * one on its own renew subject (the connection is the proof), or over HTTP with a signature when NATS
 * cannot answer, then reconnects so the server holds the new one. When the server refuses the agent
 * (its JWT expired while it was down, or it was revoked), the platform is asked over HTTP which it is.
 */
export class JwtRenewer {
  private timer?: NodeJS.Timeout;
  private link?: RenewableLink;
  private failures = 0;
  private lastRefusalCheck = -Infinity;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: JwtRenewerOptions) {}

  /** Schedules renewals on this link. */
  start(link: RenewableLink): void {
    this.link = link;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Milliseconds until the current JWT expires (negative once it has). */
  remainingMs(): number {
    return Date.parse(this.options.current().expiresAt) - this.options.clock();
  }

  /** The server refused the agent's credentials: learn over HTTP whether it expired or was revoked. */
  async onRefused(reason: string): Promise<void> {
    const now = this.options.clock();
    if (now - this.lastRefusalCheck < REFUSAL_CHECK_INTERVAL_MS) return;
    this.lastRefusalCheck = now;
    this.options.log.warn({ reason }, 'NATS refused the agent; checking with the platform');
    await this.renewOverHttp().catch((error: unknown) =>
      this.options.log.warn({ err: error }, 'could not renew the agent JWT over HTTP; will retry'),
    );
  }

  /** A fresh JWT over HTTP (signed with the agent's key); used before connecting and after a refusal. */
  async renewOverHttp(): Promise<void> {
    try {
      const fresh = await this.options.platform.renew(this.options.identity.agentId, this.options.key);
      this.options.save(fresh);
      this.options.log.info({ expiresAt: fresh.expiresAt }, 'agent JWT renewed over HTTP');
    } catch (error) {
      this.revokedOr(error);
    }
  }

  /** Renews now: over NATS when connected, else over HTTP; then reconnects with the new JWT. */
  renewNow(): Promise<void> {
    this.running ??= this.renew().finally(() => (this.running = undefined));
    return this.running;
  }

  private async renew(): Promise<void> {
    const link = this.link;
    try {
      let fresh: AgentJwt | undefined;
      if (link && !link.isClosed()) {
        fresh = await link.renewJwt(this.options.identity).catch((error: unknown) => {
          this.revokedOr(error, false);
          return undefined;
        });
      }
      if (fresh) {
        this.options.save(fresh);
        this.options.log.info({ expiresAt: fresh.expiresAt }, 'agent JWT renewed');
        await link?.reauthenticate();
      } else {
        await this.renewOverHttp();
        await link?.reauthenticate();
      }
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.options.log.warn({ err: error, failures: this.failures }, 'agent JWT renewal failed; will retry');
    } finally {
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const remaining = this.remainingMs();
    const jitter = 0.9 + 0.2 * this.options.random();
    const delay = this.failures
      ? Math.min(RETRY_MIN_MS * 2 ** (this.failures - 1), RETRY_MAX_MS, Math.max(remaining / 4, RETRY_MIN_MS))
      : Math.max(remaining * RENEW_AT_SHARE * jitter, 0);
    this.timer = setTimeout(() => void this.renewNow(), delay);
    this.timer.unref?.();
  }

  /** A revocation stops the agent; anything else is rethrown (when asked) for a retry. */
  private revokedOr(error: unknown, rethrow = true): void {
    if (error instanceof DomainError && error.code === ErrorCodes.AGENT_REVOKED) {
      this.options.onRevoked(error.message);
      return;
    }
    if (rethrow) throw error;
  }
}
