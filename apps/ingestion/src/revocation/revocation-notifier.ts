import { Inject, Injectable } from '@nestjs/common';
import { JSONCodec, NatsConnection } from 'nats';
import { AgentControlMessage, Subjects } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';
import { Clock } from '@app/clock';

const json = JSONCodec<AgentControlMessage>();
/** One notice per agent per window: a revoked agent heartbeating every second gets one, not sixty. */
const NOTICE_WINDOW_MS = 30_000;
/** Bound on remembered agents; the oldest notice is forgotten first. */
const MAX_REMEMBERED = 10_000;

/**
 * Tells an agent whose credential was refused as revoked to stop (`agents.<env>.<id>.control`).
 * Provisioning sends the same notice when it revokes; this one reaches agents that were
 * disconnected at that moment and keep sending with the old credential.
 */
@Injectable()
export class RevocationNotifier {
  private readonly lastNotice = new Map<string, number>();

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly clock: Clock,
  ) {}

  notify(environment: string, agentId: string): void {
    const key = `${environment}.${agentId}`;
    const now = this.clock.now();
    const last = this.lastNotice.get(key);
    if (last !== undefined && now - last < NOTICE_WINDOW_MS) return;
    this.lastNotice.delete(key);
    if (this.lastNotice.size >= MAX_REMEMBERED) {
      const oldest = this.lastNotice.keys().next().value;
      if (oldest !== undefined) this.lastNotice.delete(oldest);
    }
    this.lastNotice.set(key, now);
    this.nc.publish(
      Subjects.agentControl(environment, agentId),
      json.encode({ type: 'revoked', reason: 'credential refused by ingestion: revoked' }),
    );
  }
}
