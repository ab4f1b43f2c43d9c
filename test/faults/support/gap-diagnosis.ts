import { NatsConnection } from 'nats';
import { Headers, Streams, Subjects } from '@app/contracts';

/** A batch the agent numbered that ingestion did not store. */
export interface MissingBatch {
  agentName: string;
  agentId: string;
  environment: string;
  seq: number;
  collectedAt: number;
}

/**
 * Where a missing batch got to, from JetStream's side, so a gap in a fault run names its cause instead of
 * only counting it: not in AGENT_METRICS (the agent never had it acknowledged, or JetStream lost it), in
 * the stream but not yet delivered, delivered and waiting for an ack, counted acknowledged by the
 * `ingestion` consumer without a row (lost between consumer and database), or parked on DEAD_LETTER.
 */
export async function explainGaps(nc: NatsConnection, missing: MissingBatch[]): Promise<string> {
  if (!missing.length) return '';
  try {
    const jsm = await nc.jetstreamManager();
    const consumer = await jsm.consumers.info(Streams.metrics, 'ingestion');
    const ackFloor = consumer.ack_floor.stream_seq;
    const delivered = consumer.delivered.stream_seq;
    const inStream = await streamSequences(nc, missing);
    const parked = await scan(nc, Streams.deadLetter, Subjects.deadLetterWildcard);
    const lines = [
      `ingestion consumer: ack floor ${ackFloor}, delivered up to ${delivered}, ack pending ${consumer.num_ack_pending}, redelivered ${consumer.num_redelivered}`,
    ];
    for (const m of missing) {
      const streamSeq = inStream.get(`${m.agentId}:${m.seq}`);
      const parkedHere = parked.filter(
        (p) => p.text.includes(m.agentId) && p.text.includes(`"seq":${m.seq},`),
      );
      let verdict: string;
      if (parkedHere.length)
        verdict = `parked on DEAD_LETTER (${parkedHere.map((p) => p.reason).join(', ')})`;
      else if (streamSeq === undefined)
        verdict = 'not in AGENT_METRICS: never acknowledged to the agent, or lost by JetStream';
      else if (streamSeq > delivered)
        verdict = `in AGENT_METRICS at ${streamSeq}, not yet delivered to ingestion`;
      else if (streamSeq > ackFloor)
        verdict = `in AGENT_METRICS at ${streamSeq}, delivered, not acknowledged (pending or lost pending state)`;
      else
        verdict = `in AGENT_METRICS at ${streamSeq}, below the consumer's ack floor, yet no row: acked without being stored`;
      lines.push(
        `${m.agentName} seq ${m.seq} (collected ${new Date(m.collectedAt).toISOString()}): ${verdict}`,
      );
    }
    return lines.join('\n');
  } catch (error) {
    return `gap diagnosis unavailable: ${String(error)}`;
  }
}

/** Where the missing batches are in AGENT_METRICS: stream sequence by `<agentId>:<seq>` (absent: not there). */
export async function streamSequences(
  nc: NatsConnection,
  missing: MissingBatch[],
): Promise<Map<string, number>> {
  const inStream = new Map<string, number>();
  for (const agentId of new Set(missing.map((m) => m.agentId))) {
    const environment = missing.find((m) => m.agentId === agentId)!.environment;
    for (const found of await scan(nc, Streams.metrics, Subjects.metrics(environment, agentId)))
      if (found.msgId) inStream.set(found.msgId, found.streamSeq);
  }
  return inStream;
}

interface ScannedMessage {
  streamSeq: number;
  msgId?: string;
  reason?: string;
  text: string;
}

/** Every message of `stream` on `subject`, read with an ordered consumer (nothing acked, nothing changed). */
async function scan(nc: NatsConnection, stream: string, subject: string): Promise<ScannedMessage[]> {
  const consumer = await nc.jetstream().consumers.get(stream, { filterSubjects: subject });
  const found: ScannedMessage[] = [];
  for (let done = false; !done;) {
    done = true;
    for await (const msg of await consumer.fetch({ max_messages: 1000, expires: 2000 })) {
      found.push({
        streamSeq: msg.seq,
        msgId: msg.headers?.get('Nats-Msg-Id') || undefined,
        reason: msg.headers?.get(Headers.deadLetterReason) || undefined,
        text: new TextDecoder().decode(msg.data),
      });
      // More after this one: fetch again once this batch ends.
      done = msg.info.pending === 0;
    }
  }
  return found;
}
