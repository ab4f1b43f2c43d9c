import { createServer } from 'node:net';
import { INestMicroservice } from '@nestjs/common';
import { connect, NatsConnection } from 'nats';
import { loadConfig } from '@app/config';
import { Streams } from '@app/contracts';
import { createTestDatabase, NatsServerHandle, startNatsServer, TestDatabase, waitFor } from '@app/testing';
import { IngestionConfig } from '../src/config';
import { ensureMetricsStream } from '../src/metrics/metrics-stream';
import { ingestionConfig, startTestIngestion } from './ingestion-fixtures';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('AGENT_METRICS on a JetStream with 1 GiB of storage (a small disk)', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;

  beforeEach(async () => {
    server = await startNatsServer({ maxFileStoreBytes: GiB });
    nc = await connect({ servers: server.url });
  });

  afterEach(async () => {
    await nc.close();
    await server.dispose();
  });

  it('takes half of what JetStream can reserve when METRICS_STREAM_MAX_BYTES is unset, and keeps that size at the next start', async () => {
    const jsm = await nc.jetstreamManager();
    const config = loadConfig(IngestionConfig, {});
    const first = await ensureMetricsStream(jsm, config);
    expect(first.reservable).toBeGreaterThan(GiB - 64 * MiB);
    expect(first.reservable).toBeLessThanOrEqual(GiB);
    expect((await jsm.streams.info(Streams.metrics)).config.max_bytes).toBe(first.maxBytes);
    expect(first.maxBytes).toBeGreaterThan(400 * MiB);
    expect(first.maxBytes).toBeLessThanOrEqual(512 * MiB);

    const again = await ensureMetricsStream(jsm, config);
    expect(again).toEqual({ maxBytes: first.maxBytes });
    expect((await jsm.streams.list().next()).map((s) => s.config.name)).toEqual([Streams.metrics]);
  });

  it('stops start-up with one sentence naming METRICS_STREAM_MAX_BYTES when JetStream cannot reserve it', async () => {
    const database = await createTestDatabase('sqlite', 'ingestion');
    try {
      const starting = startTestIngestion(
        ingestionConfig(server.url, database, { METRICS_STREAM_MAX_BYTES: String(8 * GiB) }),
      );
      await expect(starting).rejects.toThrow(
        /METRICS_STREAM_MAX_BYTES: JetStream cannot reserve 8589934592 bytes for AGENT_METRICS on this server/,
      );
    } finally {
      await database.cleanup();
    }
  });
});

describe('ingestion /health and JetStream', () => {
  let server: NatsServerHandle;
  let database: TestDatabase;
  let app: INestMicroservice | undefined;

  beforeEach(async () => {
    server = await startNatsServer();
    database = await createTestDatabase('sqlite', 'ingestion');
  });

  afterEach(async () => {
    await app?.close();
    await server.dispose();
    await database.cleanup();
  });

  it('names jetstream while the NATS server runs without it, and is healthy again once JetStream is back', async () => {
    const port = await freePort();
    app = await startTestIngestion(ingestionConfig(server.url, database, { METRICS_PORT: String(port) }));
    const health = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      return { status: response.status, body: (await response.json()) as { failing: string[] } };
    };
    expect(await health()).toEqual({ status: 200, body: { status: 'ok', failing: [] } });

    // What clients of a server whose JetStream gave up on a full disk see: NATS answers, JetStream does not.
    await server.restart({ jetstream: false });
    const down = await waitFor(
      'jetstream reported failing',
      async () => {
        const h = await health();
        return h.body.failing.includes('jetstream') && h;
      },
      15_000,
    );
    expect(down.status).toBe(503);

    await server.restart();
    await waitFor('healthy again', async () => (await health()).status === 200, 15_000);
  });
});
