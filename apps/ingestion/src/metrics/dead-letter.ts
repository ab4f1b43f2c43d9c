import { Inject, Injectable } from '@nestjs/common';
import { JetStreamClient, MsgHdrs, NatsConnection } from 'nats';
import { Streams, Subjects } from '@app/contracts';
import { NATS_CONNECTION, parkOnDeadLetter } from '@app/messaging';

const METRICS_DEAD_LETTER_SOURCE = 'metrics';
export const METRICS_DEAD_LETTER_SUBJECT = Subjects.deadLetter(METRICS_DEAD_LETTER_SOURCE);

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

  park(msg: ParkableMessage, reason: string, detail?: string): Promise<void> {
    return parkOnDeadLetter(this.js, METRICS_DEAD_LETTER_SOURCE, {
      subject: msg.subject,
      data: msg.data,
      headers: msg.headers,
      reason,
      detail,
      msgId: `metrics:${Streams.metrics}:${msg.seq}`,
    });
  }
}
