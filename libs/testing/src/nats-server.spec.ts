import { connect, StringCodec } from 'nats';
import { startNatsServer, NatsServerHandle } from './nats-server';

describe('startNatsServer', () => {
  let server: NatsServerHandle;
  afterEach(() => server?.dispose());

  it('starts an isolated JetStream server and keeps its port and streams across a restart', async () => {
    server = await startNatsServer();
    expect(server.port).toBeGreaterThan(0);
    const nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'T', subjects: ['t.>'] });
    await nc.jetstream().publish('t.x', StringCodec().encode('kept'));
    await nc.close();

    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    const again = await connect({ servers: server.url });
    const info = await (await again.jetstreamManager()).streams.info('T');
    expect(info.state.messages).toBe(1);
    await again.close();
  });
});
