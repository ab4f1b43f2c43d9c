import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { HostIdentity, MetricSample } from '@app/contracts';
import { CollectorRunner } from '../collectors/run-collectors';
import {
  createKubernetesCollectors,
  KubernetesNodesCollector,
  KubernetesPodsCollector,
} from './kubernetes-collectors';
import { KubernetesAgent } from './kubernetes-agent';
import { KubernetesAgentConfig } from './kubernetes-config';
import { CoreV1Api } from '@kubernetes/client-node';

const testdata = (file: string) => readFileSync(join(__dirname, 'testdata', file), 'utf8');

/**
 * A stand-in for the API server, answering the recorded JSON of the real one. `requests` keeps the
 * paths asked for, so pagination can be checked.
 */
function startFakeApiServer(): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${url.pathname}${url.search}`);
    if (url.pathname === '/api/v1/nodes') return send(res, 200, testdata('nodes.json'));
    if (url.pathname === '/api/v1/pods') {
      return send(
        res,
        200,
        testdata(url.searchParams.get('continue') ? 'pods-page-2.json' : 'pods-page-1.json'),
      );
    }
    if (url.pathname === '/api/v1/namespaces/team-a/pods')
      return send(res, 200, testdata('pods-team-a.json'));
    if (url.pathname === '/api/v1/namespaces/locked/pods') return send(res, 403, testdata('forbidden.json'));
    if (url.pathname === '/api/v1/namespaces/kube-system')
      return send(res, 200, testdata('kube-system.json'));
    send(res, 404, JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }),
    ),
  );
}

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test-cluster', server, skipTLSVerify: true }],
    users: [{ name: 'agent', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test-cluster', user: 'agent' }],
    currentContext: 'test',
  });
  return kc;
}

const get = (samples: MetricSample[], name: string, tags: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(tags).every(([k, v]) => s.tags?.[k] === v))?.value;

const config = (overrides: Partial<KubernetesAgentConfig> = {}) =>
  Object.assign(new KubernetesAgentConfig(), overrides);

describe('Kubernetes collectors against an API server answering recorded JSON', () => {
  let fake: Awaited<ReturnType<typeof startFakeApiServer>>;
  let api: CoreV1Api;

  beforeAll(async () => {
    fake = await startFakeApiServer();
    api = kubeConfigFor(fake.url).makeApiClient(CoreV1Api);
  });
  afterAll(() => new Promise((r) => fake.server.close(r)));

  it('reports node readiness and capacity/allocatable in cores, bytes and pods', async () => {
    const samples = await new KubernetesNodesCollector(api).collect();
    expect(get(samples, 'k8s.nodes')).toBe(2);
    expect(get(samples, 'k8s.nodes.ready')).toBe(1);
    expect(get(samples, 'k8s.node.ready', { node: 'node-a' })).toBe(1);
    expect(get(samples, 'k8s.node.ready', { node: 'node-b' })).toBe(0);
    expect(get(samples, 'k8s.node.cpu.capacity', { node: 'node-a' })).toBe(4);
    expect(get(samples, 'k8s.node.cpu.allocatable', { node: 'node-a' })).toBeCloseTo(3.92);
    expect(get(samples, 'k8s.node.memory.capacity', { node: 'node-a' })).toBe(16762400768);
    expect(get(samples, 'k8s.node.memory.allocatable', { node: 'node-a' })).toBe(15583801344);
    expect(get(samples, 'k8s.node.memory.capacity', { node: 'node-b' })).toBe(8589934592);
    expect(get(samples, 'k8s.node.pods.allocatable', { node: 'node-b' })).toBe(100);
  });

  it('reads every page of pods cluster-wide and reports phases, pending, crash loops and restarts', async () => {
    fake.requests.length = 0;
    const samples = await new KubernetesPodsCollector(api).collect();
    expect(fake.requests.filter((r) => r.startsWith('/api/v1/pods'))).toHaveLength(2);
    expect(
      Object.fromEntries(samples.filter((s) => s.name === 'k8s.pods').map((s) => [s.tags!.phase, s.value])),
    ).toEqual({
      Pending: 1,
      Running: 3,
      Succeeded: 1,
      Failed: 1,
      Unknown: 0,
    });
    expect(get(samples, 'k8s.pods.pending')).toBe(1);
    expect(get(samples, 'k8s.pods.crash_looping')).toBe(1);
    expect(get(samples, 'k8s.containers.restarts')).toBe(10);
    expect(samples.filter((s) => s.name === 'k8s.pod.restarts').map((s) => [s.tags!.pod, s.value])).toEqual([
      ['api-0', 8],
      ['web-2', 2],
    ]);
    expect(samples.filter((s) => s.name === 'k8s.pod.crash_looping').map((s) => s.tags)).toEqual([
      { namespace: 'team-a', pod: 'api-0', container: 'api' },
    ]);
  });

  it('watches only its namespace with scope "namespace", and reads no nodes', async () => {
    fake.requests.length = 0;
    const collectors = createKubernetesCollectors(
      config({ scope: 'namespace', namespace: 'team-a' }),
      kubeConfigFor(fake.url),
    );
    expect(collectors.map((c) => c.name)).toEqual(['kubernetes.pods']);
    const samples = await collectors[0].collect();
    expect(fake.requests.every((r) => r.startsWith('/api/v1/namespaces/team-a/pods'))).toBe(true);
    expect(get(samples, 'k8s.pods', { phase: 'Running' })).toBe(1);
    expect(get(samples, 'k8s.containers.restarts')).toBe(8);
  });

  it('reports a 403 as a collector error saying what was forbidden, while other collectors still report', async () => {
    const runner = new CollectorRunner(
      [new KubernetesPodsCollector(api, 'locked'), new KubernetesNodesCollector(api)],
      5000,
    );
    const { samples, status } = await runner.collect();
    expect(status.ok).toBe(false);
    expect(status.errors).toEqual([
      {
        collector: 'kubernetes.pods',
        error: expect.stringMatching(
          /^list pods in namespace locked: HTTP 403 Forbidden: pods is forbidden: User/,
        ),
      },
    ]);
    expect(get(samples, 'k8s.nodes')).toBe(2);
  });

  it('identifies the cluster by the kube-system namespace UID', async () => {
    class Probe extends KubernetesAgent {
      identify(): Promise<HostIdentity> {
        return this.describeHost(undefined);
      }
    }
    const agent = new Probe(
      {
        agentType: 'kubernetes',
        natsUrl: 'nats://127.0.0.1:1',
        stateDir: '/nonexistent',
        heartbeatIntervalSeconds: 10,
        collectIntervalSeconds: 10,
        logger: pino({ level: 'silent' }),
        collectors: [],
      },
      kubeConfigFor(fake.url),
      'rca-agent',
    );
    expect(await agent.identify()).toMatchObject({
      hostname: 'test-cluster',
      hostId: 'k8s-0f6a3b5e-2d4c-4e8f-9a1b-7c3d5e7f9a2b',
    });
  });
});
