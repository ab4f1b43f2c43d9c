import { NatsConnection } from 'nats';
import { Streams } from '@app/contracts';
import { NatsClusterHandle, startNatsCluster } from '@app/testing';
import { ensureDeadLetterStream, ensureEventsStream } from './streams';

describe('the shared streams in a NATS cluster', () => {
  let cluster: NatsClusterHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster();
    nc = await cluster.bus.connectWith('test-operator', ['$JS.API.>'], ['_INBOX_test-operator.>']);
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.dispose();
  });

  it('creates EVENTS with one replica unless told, and leaves an existing stream alone then', async () => {
    const jsm = await nc.jetstreamManager();
    await ensureEventsStream(jsm);
    expect((await jsm.streams.info(Streams.events)).config.num_replicas).toBe(1);
    await ensureEventsStream(jsm, {});
    expect((await jsm.streams.info(Streams.events)).config.num_replicas).toBe(1);
  });

  it('scales an existing EVENTS to EVENTS_STREAM_REPLICAS, and a later start without it keeps that', async () => {
    const jsm = await nc.jetstreamManager();
    await ensureEventsStream(jsm, { replicas: 3 });
    const info = await jsm.streams.info(Streams.events);
    expect(info.config.num_replicas).toBe(3);
    expect(info.config.max_bytes).toBe(512 * 1024 ** 2);
    await ensureEventsStream(jsm);
    expect((await jsm.streams.info(Streams.events)).config.num_replicas).toBe(3);
  });

  it('creates DEAD_LETTER with DEAD_LETTER_STREAM_REPLICAS', async () => {
    const jsm = await nc.jetstreamManager();
    await ensureDeadLetterStream(jsm, { replicas: 3 });
    const info = await jsm.streams.info(Streams.deadLetter);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas).toHaveLength(2);
  });
});
