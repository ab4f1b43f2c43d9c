import { headers as natsHeaders, JetStreamClient, MsgHdrs } from 'nats';
import { Headers, Subjects } from '@app/contracts';

/** A message that can never be handled, as it is parked: the original and why. */
export interface DeadLetter {
  /** The subject it came on (or would have gone to). */
  subject: string;
  data: Uint8Array;
  /** The original headers, copied onto the parked message (all but its msg id). */
  headers?: MsgHdrs;
  reason: string;
  detail?: string;
  /** Dedup id on DEAD_LETTER, so parking the same message twice stores it once. */
  msgId?: string;
}

/**
 * Parks a message on the DEAD_LETTER stream under `deadletter.<source>`, with the reason, the
 * original subject and detail as headers (docs/protocol.md, "Dead letters"). The caller's NATS user
 * may publish only its own `deadletter.<source>` subject.
 */
export async function parkOnDeadLetter(
  js: JetStreamClient,
  source: string,
  letter: DeadLetter,
): Promise<void> {
  const h = natsHeaders();
  for (const [key, values] of letter.headers ?? []) {
    // A copy must not be dropped as a duplicate of the original by DEAD_LETTER's window.
    if (key.toLowerCase() === Headers.msgId.toLowerCase()) continue;
    for (const value of values) h.append(key, value);
  }
  h.set(Headers.deadLetterReason, headerValue(letter.reason));
  h.set(Headers.deadLetterSubject, letter.subject);
  if (letter.detail) h.set(Headers.deadLetterDetail, headerValue(letter.detail));
  await js.publish(Subjects.deadLetter(source), letter.data, {
    headers: h,
    ...(letter.msgId ? { msgID: letter.msgId } : {}),
  });
}

/** One line, bounded: a header value cannot hold a line break (error messages can). */
function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 500);
}
