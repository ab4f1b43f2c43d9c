import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders, JetStreamClient, MsgHdrs, NatsConnection } from 'nats';
import { Headers, Streams, Subjects } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';

export const METRICS_DEAD_LETTER_SUBJECT = Subjects.deadLetter('metrics');

/** A metrics message as parking needs it: delivered (`JsMsg`) or read back from the stream by sequence. */
export interface ParkableMessage {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
  /** Its AGENT_METRICS sequence. */
  seq: number;
}

/**
 * Parks a metrics message that can never be stored on the DEAD_LETTER stream: the original
 * body and headers, the original subject and the reason (agents carry no secret in headers:
 * their identity is their NATS connection). The msgID is derived from the AGENT_METRICS sequence,
 * so parking the same message twice stores it once.
 */
@Injectable()
export class DeadLetterParker {
  private readonly js: JetStreamClient;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.js = nc.jetstream();
  }

  async park(msg: ParkableMessage, reason: string, detail?: string): Promise<void> {
    const h = natsHeaders();
    for (const [key, values] of msg.headers ?? []) {
      // A copy must not be dropped as a duplicate of the original by DEAD_LETTER's window.
      if (key.toLowerCase() === Headers.msgId.toLowerCase()) continue;
      for (const value of values) h.append(key, value);
    }
    h.set(Headers.deadLetterReason, reason);
    h.set(Headers.deadLetterSubject, msg.subject);
    if (detail) h.set(Headers.deadLetterDetail, detail.slice(0, 500));
    await this.js.publish(METRICS_DEAD_LETTER_SUBJECT, msg.data, {
      headers: h,
      msgID: `metrics:${Streams.metrics}:${msg.seq}`,
    });
  }
}
