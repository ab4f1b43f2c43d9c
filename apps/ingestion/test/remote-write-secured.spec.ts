import { INestMicroservice } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { EventKinds } from '@app/contracts';
import { EventPublisher } from '@app/messaging';
import {
  createTestDatabase,
  NatsServerHandle,
  PrometheusServer,
  requireTool,
  startNatsServer,
  TestDatabase,
  waitFor,
} from '@app/testing';
import {
  ingestionConfig,
  publishMetrics,
  startTestIngestion,
  TestRegistry,
  TestTokenService,
} from './ingestion-fixtures';

const prometheus = requireTool('prometheus');

/**
 * The remote-write sink as `npm start` runs it: ingestion as the `ingestion` user of an operator-mode
 * server with exactly libs/nats-auth's rights (its own consumer, `fleet.agents.get`, the label events),
 * the registry answered by the `provisioning` user. A missing right shows here as series that never come.
 */
prometheus.describe('the remote-write sink on the secured bus', () => {
  let server: NatsServerHandle;
  let database: TestDatabase;
  let receiver: PrometheusServer;
  let connections: NatsConnection[] = [];
  let tokens: TestTokenService;
  let registry: TestRegistry;
  let provisioning: NatsConnection;
  let gateway: NatsConnection;
  let app: INestMicroservice | undefined;

  beforeAll(async () => {
    server = await startNatsServer({ secured: true });
    const bus = server.bus!;
    database = await createTestDatabase('sqlite', 'ingestion');
    receiver = await PrometheusServer.start();
    const tokensConnection = await bus.connect('tokens');
    provisioning = await bus.connect('provisioning');
    gateway = await bus.connect('gateway');
    connections = [tokensConnection, provisioning, gateway];
    tokens = await new TestTokenService(tokensConnection).start();
    registry = await new TestRegistry(provisioning).start();
    app = await startTestIngestion(
      ingestionConfig(server.url, database, {
        NATS_CREDS: bus.credsFile('ingestion'),
        NATS_CA_FILE: bus.caFile,
        METRICS_SINKS: 'remote_write',
        REMOTE_WRITE_URL: receiver.remoteWriteUrl,
      }),
    );
  });

  afterAll(async () => {
    await app?.close();
    tokens?.stop();
    registry?.stop();
    for (const nc of connections) await nc.close();
    await receiver?.close();
    await database?.cleanup();
    await server?.dispose();
  });

  it("exports with the registry's labels, and a relabel shows on the next batch", async () => {
    tokens.issue('prod-1', 'ag_secured', 'org-9');
    registry.register('org-9', 'prod-1', 'ag_secured', { labels: { team: 'blue' } });
    const now = Date.now();
    const publish = (seq: number) =>
      publishMetrics(gateway, 'prod-1', 'ag_secured', seq, {
        body: {
          agentId: 'ag_secured',
          seq,
          collectedAt: now - 10_000 + seq,
          samples: [{ name: 'up', value: 1 }],
        },
      });
    await publish(1);
    const teams = async () =>
      (await receiver.query('count by (team) (count_over_time(up{agent="ag_secured"}[1h]))'))
        .map((s) => s.metric.team)
        .sort();
    await waitFor('the series labelled team=blue', async () => (await teams()).join() === 'blue', 20_000);

    registry.register('org-9', 'prod-1', 'ag_secured', { labels: { team: 'green' } });
    await new EventPublisher(provisioning).publish({
      kind: EventKinds.agentLabelsChanged,
      organizationId: 'org-9',
      environment: 'prod-1',
      agentId: 'ag_secured',
      data: { labels: { team: 'green' }, previous: { labels: { team: 'blue' } }, actor: 'test' },
    });
    await provisioning.flush();
    await publish(2);
    await waitFor(
      'the next batch labelled team=green',
      async () => (await teams()).join() === 'blue,green',
      20_000,
    );
  });
});
