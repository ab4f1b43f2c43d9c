import {
  AckPolicy,
  headers as natsHeaders,
  JSONCodec,
  NatsConnection,
  connect,
  StorageType,
  RetentionPolicy,
} from 'nats';
import { Headers, PROTOCOL_VERSION, Subjects, metricsMsgId } from '@app/contracts';
import { startNatsServer } from '@app/testing';
import { BenchContext, Scenario } from './lib/harness';
import { heartbeat, metricsBatch, SAMPLES_PER_BATCH } from './lib/payloads';

const json = JSONCodec<unknown>();

/** Messages per core pub/sub run: ~1–2 s of traffic at the rates this machine reaches. */
const CORE_MESSAGES = 300_000;
/** Publish this many, then wait for the server's PONG, so the publisher cannot run unboundedly ahead. */
const CORE_FLUSH_EVERY = 5_000;
/** Distinct agents the payloads cycle through (subjects and bodies differ per agent). */
const AGENTS = 1_000;
const JS_MESSAGES = 50_000;
/** Outstanding JetStream publishes before we wait for their acks: async publishing with batched acks. */
const JS_PUBLISH_WINDOW = 512;
/** Messages a pull consumer asks for at once. */
const JS_PULL_BATCH = 512;
const STALL_MS = 3_000;

export const natsCeiling: Scenario = {
  name: 'nats-ceiling',
  title: 'NATS ceiling (raw nats.js, no platform code)',
  async run(ctx) {
    const server = await startNatsServer();
    try {
      const hb = Buffer.byteLength(JSON.stringify(heartbeat('agent-000001')));
      const mb = Buffer.byteLength(JSON.stringify(metricsBatch('agent-000001', 1)));
      ctx.note(
        `heartbeat body ${hb} B + protocol header; metrics batch ${mb} B (${SAMPLES_PER_BATCH} samples); ` +
          `${AGENTS} agent ids over 1 publishing connection`,
      );
      await ctx.repeat(async () => {
        await corePubSub(ctx, server.url);
        await jetStream(ctx, server.url);
      });
    } finally {
      await server.dispose();
    }
  },
};

async function corePubSub(ctx: BenchContext, url: string): Promise<void> {
  const sub = await connect({ servers: url, name: 'bench-sub' });
  const pub = await connect({ servers: url, name: 'bench-pub' });
  try {
    const bodies = Array.from({ length: AGENTS }, (_, i) => {
      const id = `agent-${String(i).padStart(6, '0')}`;
      return { subject: Subjects.heartbeat('prod-1', id), data: json.encode(heartbeat(id)) };
    });
    const hdrs = natsHeaders();
    hdrs.set(Headers.protocolVersion, String(PROTOCOL_VERSION));

    let received = 0;
    let bytes = 0;
    let lastAt = 0;
    sub.subscribe(Subjects.heartbeatWildcard, {
      callback: (_err, msg) => {
        received++;
        bytes += msg.data.length;
        lastAt = performance.now();
      },
    });
    await sub.flush();

    const start = performance.now();
    for (let i = 0; i < CORE_MESSAGES; i++) {
      const b = bodies[i % AGENTS];
      pub.publish(b.subject, b.data, { headers: hdrs });
      if ((i + 1) % CORE_FLUSH_EVERY === 0) await pub.flush();
    }
    await pub.flush();
    const publishedAt = performance.now();
    await untilStalled(
      () => received >= CORE_MESSAGES,
      () => received,
    );
    const seconds = ((lastAt || publishedAt) - start) / 1000;
    ctx.record('core publish rate', 'msg/s', CORE_MESSAGES / ((publishedAt - start) / 1000));
    ctx.record('core publish→subscribe delivered', 'msg/s', received / seconds, {
      note: 'one publisher and one subscriber connection in one Node process, nats-server on the other core',
    });
    ctx.record('core payload throughput', 'MB/s', bytes / seconds / 1e6);
    ctx.record('core delivered share', '%', (received / CORE_MESSAGES) * 100);
  } finally {
    await pub.close();
    await sub.close();
  }
}

async function jetStream(ctx: BenchContext, url: string): Promise<void> {
  const nc: NatsConnection = await connect({ servers: url, name: 'bench-js' });
  const stream = 'BENCH_METRICS';
  try {
    const jsm = await nc.jetstreamManager();
    // Same settings as a metrics stream: file storage, a duplicate window for Nats-Msg-Id.
    await jsm.streams.add({
      name: stream,
      subjects: [Subjects.metricsWildcard],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: 120 * 1_000_000_000,
    });
    const js = nc.jetstream();
    const bodies = Array.from({ length: AGENTS }, (_, i) => {
      const id = `agent-${String(i).padStart(6, '0')}`;
      return { id, subject: Subjects.metrics('prod-1', id), data: json.encode(metricsBatch(id, 1)) };
    });
    const hdrs = natsHeaders();
    hdrs.set(Headers.protocolVersion, String(PROTOCOL_VERSION));

    const start = performance.now();
    let window: Promise<unknown>[] = [];
    for (let i = 0; i < JS_MESSAGES; i++) {
      const b = bodies[i % AGENTS];
      window.push(js.publish(b.subject, b.data, { msgID: metricsMsgId(b.id, i), headers: hdrs }));
      if (window.length >= JS_PUBLISH_WINDOW) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
    const published = performance.now();
    const publishRate = JS_MESSAGES / ((published - start) / 1000);
    ctx.record('JetStream publish (acked, file store)', 'msg/s', publishRate, {
      note: `${JS_PUBLISH_WINDOW} publishes in flight, then wait for their acks`,
    });
    ctx.record('JetStream publish, samples equivalent', 'samples/s', publishRate * SAMPLES_PER_BATCH);

    await jsm.consumers.add(stream, {
      durable_name: 'bench',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 10_000,
    });
    const consumer = await js.consumers.get(stream, 'bench');
    const consumeStart = performance.now();
    let consumed = 0;
    const messages = await consumer.consume({ max_messages: JS_PULL_BATCH });
    const done = (async () => {
      for await (const m of messages) {
        m.ack();
        if (++consumed >= JS_MESSAGES) break;
      }
    })();
    await untilStalled(
      () => consumed >= JS_MESSAGES,
      () => consumed,
    );
    await done.catch(() => undefined);
    await nc.flush();
    const consumeRate = consumed / ((performance.now() - consumeStart) / 1000);
    ctx.record('JetStream pull consume + ack', 'msg/s', consumeRate, {
      note: `pull batches of ${JS_PULL_BATCH}, one ack per message`,
    });
    ctx.record('JetStream consume, samples equivalent', 'samples/s', consumeRate * SAMPLES_PER_BATCH);
    if (consumed < JS_MESSAGES) ctx.note(`consumer stalled at ${consumed}/${JS_MESSAGES}`);
    await jsm.streams.delete(stream);
  } finally {
    await nc.close();
  }
}

/** Waits until `done()` or until `progress()` stops moving for STALL_MS (lossy paths may never finish). */
async function untilStalled(done: () => boolean, progress: () => number): Promise<void> {
  let last = progress();
  let lastMoved = Date.now();
  while (!done()) {
    await new Promise((r) => setTimeout(r, 20));
    const now = progress();
    if (now !== last) {
      last = now;
      lastMoved = Date.now();
    } else if (Date.now() - lastMoved > STALL_MS) {
      return;
    }
  }
}
