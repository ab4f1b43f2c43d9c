import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { MetricSample } from '@app/contracts';
import { PartialCollectionError } from '../agent-type';
import { scrapeTargetOfPod } from './annotated-pods';
import { createKubernetesCollectors } from './kubernetes-collectors';
import { KubernetesAgentConfig } from './kubernetes-config';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );

/** A pod as the API server lists it (the fields the discovery reads, in the API's JSON shape). */
const pod = (name: string, phase: string, annotations: Record<string, string>, port?: number): V1Pod => ({
  metadata: { name, namespace: 'team-a', annotations },
  spec: { containers: [{ name: 'app', ports: port ? [{ containerPort: port }] : undefined }] },
  status: { phase, podIP: '127.0.0.1' },
});

describe('scraping annotated pods', () => {
  let app: Server;
  let api: Server;
  let appPort: number;
  let apiUrl: string;

  beforeAll(async () => {
    // The pods' application: /metrics answers, /broken fails.
    app = createServer((req, res) =>
      req.url === '/metrics' ? res.end('orders_total{payment="card"} 5\n') : res.writeHead(500).end(),
    );
    appPort = Number(new URL(await listen(app)).port);
    // A stand-in for the API server answering the pod list of namespace team-a.
    const pods = [
      pod('web-1', 'Running', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(appPort) }),
      pod('api-1', 'Running', {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(appPort),
        'prometheus.io/path': '/broken',
      }),
      pod('db-0', 'Running', {}, appPort),
      pod('web-2', 'Pending', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(appPort) }),
    ];
    api = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/namespaces/team-a/pods'))
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods }));
      res.writeHead(404).end();
    });
    apiUrl = await listen(api);
  });
  afterAll(() => {
    app.close();
    api.close();
  });

  it('scrapes the running annotated pods in scope, tagged with namespace and pod, and names the one that fails', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: apiUrl, skipTLSVerify: true }],
      users: [{ name: 'agent', token: 'test-token' }],
      contexts: [{ name: 'test', cluster: 'c', user: 'agent' }],
      currentContext: 'test',
    });
    const config = Object.assign(new KubernetesAgentConfig(), {
      scope: 'namespace',
      namespace: 'team-a',
      scrape_pods: 'on',
    });
    const collector = createKubernetesCollectors(config, kc, 10).find(
      (c) => c.name === 'scrape:kubernetes-pods',
    )!;
    let samples: MetricSample[] = [];
    let error: string | undefined;
    try {
      samples = await collector.collect();
    } catch (e) {
      if (!(e instanceof PartialCollectionError)) throw e;
      ({ samples, message: error } = e);
    }
    expect(samples.filter((s) => s.name === 'orders_total')).toEqual([
      {
        name: 'orders_total',
        value: 5,
        tags: {
          source: 'scrape',
          target: 'team-a/web-1',
          namespace: 'team-a',
          pod: 'web-1',
          payment: 'card',
        },
      },
    ]);
    expect(
      Object.fromEntries(samples.filter((s) => s.name === 'scrape.up').map((s) => [s.tags!.target, s.value])),
    ).toEqual({ 'team-a/web-1': 1, 'team-a/api-1': 0 });
    expect(error).toBe('1 of 2 pods failed: team-a/api-1: HTTP 500');
  });

  it('is off unless asked for', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }],
      users: [{ name: 'u' }],
      contexts: [{ name: 't', cluster: 'c', user: 'u' }],
      currentContext: 't',
    });
    const names = createKubernetesCollectors(new KubernetesAgentConfig(), kc).map((c) => c.name);
    expect(names).not.toContain('scrape:kubernetes-pods');
  });

  it('uses the first container port, /metrics and the scheme annotation when the pod does not say otherwise', () => {
    expect(
      scrapeTargetOfPod(
        pod('p', 'Running', { 'prometheus.io/scrape': 'true', 'prometheus.io/scheme': 'https' }, 9102),
      )?.url,
    ).toBe('https://127.0.0.1:9102/metrics');
    expect(scrapeTargetOfPod(pod('p', 'Running', { 'prometheus.io/scrape': 'true' }))).toBeUndefined();
  });
});
