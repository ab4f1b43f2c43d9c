import { NatsConnection, StringCodec } from 'nats';
import { NatsClusterHandle, startNatsCluster } from './nats-cluster';
import { waitFor } from './wait-for';

const codec = StringCodec();

describe('startNatsCluster', () => {
  let cluster: NatsClusterHandle;
  const connections: NatsConnection[] = [];
  const operatorOn = async (index: number) => {
    const nc = await cluster
      .busOn(index)
      .connectWith(
        `test-operator-${index}`,
        ['$JS.API.>', 't.>'],
        [`_INBOX_test-operator-${index}.>`, 't.>'],
      );
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    cluster = await startNatsCluster();
  });
  afterAll(async () => {
    for (const nc of connections) await nc.close().catch(() => undefined);
    await cluster?.dispose();
  });

  it('keeps an R3 stream through a kill -9 of its leader and brings the node back current', async () => {
    const nc = await operatorOn(0);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3, max_bytes: 1024 * 1024 });
    const js = nc.jetstream();
    for (let i = 0; i < 10; i++) await js.publish('t.x', codec.encode(String(i)));
    const leaderName = (await jsm.streams.info('T')).cluster!.leader!;
    const node = cluster.nodes.find((n) => n.name === leaderName)!;
    await node.kill();
    await waitFor(
      'a new leader',
      async () => {
        const info = await jsm.streams.info('T');
        return info.cluster?.leader && info.cluster.leader !== leaderName;
      },
      20_000,
      200,
    );
    await js.publish('t.x', codec.encode('after'));
    await node.restart();
    const info = await waitFor(
      'all three replicas current',
      async () => {
        const i = await jsm.streams.info('T');
        return i.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current)
          ? i
          : undefined;
      },
      20_000,
      200,
    );
    expect(info.state.messages).toBe(11);
  });

  it('a partitioned node keeps its clients, but nothing crosses its routes until healed', async () => {
    const [inside, outside] = [await operatorOn(2), await operatorOn(0)];
    const received: string[] = [];
    const sub = outside.subscribe('t.partition', {
      callback: (_, msg) => received.push(codec.decode(msg.data)),
    });
    await outside.flush();
    await waitFor('the subscription to reach n2', async () => {
      inside.publish('t.partition', codec.encode('before'));
      await inside.flush();
      return received.includes('before');
    });
    expect((await cluster.connections()).get('n2')).toContain('test-operator-2');

    await cluster.partition(2);
    expect(await cluster.routes(0)).toBe(1);
    inside.publish('t.partition', codec.encode('during'));
    await inside.flush();
    expect(inside.isClosed()).toBe(false);

    await cluster.heal(2);
    await waitFor('a message across the healed routes', async () => {
      inside.publish('t.partition', codec.encode('after'));
      await inside.flush();
      return received.includes('after');
    });
    // Core NATS has no store: what was published into the partition is gone.
    expect(received).not.toContain('during');
    sub.unsubscribe();
  });
});
