import { MAX_SAMPLES_PER_BATCH, MetricSample } from '@app/contracts';
import { PendingBatch } from './metrics-buffer';

/**
 * Encoded bytes one batch may reach. NATS refuses a message past its max_payload (1 MiB by default and in
 * deploy/nats/nats-server.conf) and the refusal would hold the queue for good; a quarter is left for
 * headers and for a server configured a little lower.
 */
export const MAX_BATCH_BYTES = 768 * 1024;

export interface BatchLimits {
  maxSamples: number;
  maxBytes: number;
}

const DEFAULT_LIMITS: BatchLimits = { maxSamples: MAX_SAMPLES_PER_BATCH, maxBytes: MAX_BATCH_BYTES };
const utf8 = new TextEncoder();

/**
 * One collection as one or more batches: consecutive runs of samples, each within MAX_SAMPLES_PER_BATCH
 * (ingestion's wire check) and `maxBytes` of JSON, numbered by `takeSeq` in order. A collection with no
 * samples is still one (empty) batch. Each body is exactly `JSON.stringify` of its MetricsBatch, built from
 * the samples' own encodings so every sample is encoded once.
 */
export function encodeBatches(
  agentId: string,
  collectedAt: number,
  samples: MetricSample[],
  takeSeq: () => number,
  limits: BatchLimits = DEFAULT_LIMITS,
): PendingBatch[] {
  // The envelope's own bytes, with room for the largest seq (a safe integer).
  const envelope = `{"agentId":${JSON.stringify(agentId)},"seq":${Number.MAX_SAFE_INTEGER},"collectedAt":${collectedAt},"samples":[]}`;
  const room = limits.maxBytes - utf8.encode(envelope).byteLength;
  const groups: string[][] = [[]];
  let bytes = 0;
  for (const sample of samples) {
    const encoded = JSON.stringify(sample);
    const size = Buffer.byteLength(encoded) + 1; // and its comma
    let group = groups[groups.length - 1];
    if (group.length && (group.length >= limits.maxSamples || bytes + size > room)) {
      groups.push((group = []));
      bytes = 0;
    }
    group.push(encoded);
    bytes += size;
  }
  return groups.map((group) => {
    const seq = takeSeq();
    const body = `{"agentId":${JSON.stringify(agentId)},"seq":${seq},"collectedAt":${collectedAt},"samples":[${group.join(',')}]}`;
    return { seq, data: utf8.encode(body) };
  });
}
