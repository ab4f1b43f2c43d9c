import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderNatsServerConfig } from '@app/nats-auth';
import { CuttableLink } from './cuttable-link';
import { connectableBus, readPortsFile, SecuredBus, securedBusKeys, waitForJetStream } from './nats-server';
import { waitFor } from './wait-for';

/** The cluster's name in every node's `cluster { name }`. */
export const TEST_CLUSTER_NAME = 'rca-test';

/** One nats-server of the cluster. */
export interface NatsClusterNode {
  /** Its `server_name` (`n0`, `n1`, …): what JetStream reports as leader and replicas. */
  name: string;
  index: number;
  /** Its client URL (the same across restarts). */
  url: string;
  port: number;
  /** The monitoring endpoint (`/routez`, `/connz`, `/jsz`); changes at a restart. */
  monitorUrl: string;
  pid: number | undefined;
  storeDir: string;
  running: boolean;
  /** kill -9: no shutdown, the JetStream store as the crash left it. */
  kill(): Promise<void>;
  /** Starts it again with the same store, client port and configuration, and waits for its routes. */
  restart(): Promise<void>;
  log(): string;
}

export interface NatsClusterHandle {
  nodes: NatsClusterNode[];
  /** Every node's client URL, comma-separated: what NATS_URL holds in a cluster. */
  urls: string;
  /** Connects to any node (every URL, in random order, as the services do). */
  bus: SecuredBus;
  /** Connects to this node first (its URL only; the client learns the others from the cluster). */
  busOn(index: number): SecuredBus;
  /** Cuts every route between `index` and the other nodes; the node and its clients stay up. */
  partition(index: number): Promise<void>;
  /** Restores the routes a partition cut and waits until the node is routed to every other again. */
  heal(index: number): Promise<void>;
  /** Routes each node has now, from its `/routez`. */
  routes(index: number): Promise<number>;
  /** The names of the client connections each node has now (`/connz`), by node name. */
  connections(): Promise<Map<string, string[]>>;
  /** Every subject each node's clients subscribe to now (`/connz?subs=1`), by node name. */
  subscriptions(): Promise<Map<string, string[]>>;
  dispose(): Promise<void>;
}

/**
 * A secured (operator mode, TLS, the platform's accounts) nats-server cluster on loopback, JetStream on
 * every node with its own store. Each route from node i to node j runs through its own CuttableLink,
 * so a partition is real: the nodes keep running and their clients stay connected, only the routes fail.
 * Nodes advertise no route address of their own (`advertise` points at a closed port), so every route
 * is one of the configured ones and goes through a link.
 */
export async function startNatsCluster(
  options: { size?: number; binary?: string } = {},
): Promise<NatsClusterHandle> {
  const size = options.size ?? 3;
  const binary = options.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const root = mkdtempSync(join(tmpdir(), 'rca-nats-cluster-'));
  const keys = await securedBusKeys(join(root, 'auth'));
  const clusterPorts: (number | undefined)[] = new Array(size).fill(undefined);
  /** links[i][j]: the route node i opens to node j. */
  const links: CuttableLink[][] = [];
  for (let i = 0; i < size; i++) {
    links.push([]);
    for (let j = 0; j < size; j++)
      links[i].push(i === j ? (undefined as never) : await CuttableLink.open(() => clusterPorts[j]));
  }
  const nodes = Array.from({ length: size }, (_, index) =>
    clusterNode({ index, size, root, binary, keys, links, clusterPorts }),
  );
  const handle: NatsClusterHandle = {
    nodes: nodes.map((n) => n.node),
    get urls() {
      return nodes.map((n) => n.node.url).join(',');
    },
    bus: connectableBus(keys, () => nodes.map((n) => n.node.url).join(',')),
    busOn: (index) => connectableBus(keys, () => nodes[index].node.url),
    partition: async (index) => {
      for (let other = 0; other < size; other++) {
        if (other === index) continue;
        links[index][other].cutOff();
        links[other][index].cutOff();
      }
      // Both sides notice a cut route on their own schedule: wait until the node and every other agree.
      await waitFor(
        `n${index} to have lost its routes, and the others their route to it`,
        async () => {
          if ((await handle.routes(index)) !== 0) return false;
          for (let other = 0; other < size; other++)
            if (other !== index && (await handle.routes(other)) !== size - 2) return false;
          return true;
        },
        10_000,
      );
    },
    heal: async (index) => {
      for (let other = 0; other < size; other++) {
        if (other === index) continue;
        links[index][other].heal();
        links[other][index].heal();
      }
      await waitForRoutes(nodes[index].node, size - 1);
    },
    routes: (index) => routeCount(nodes[index].node),
    connections: async () => {
      const byNode = new Map<string, string[]>();
      for (const { node } of nodes) {
        if (!node.running) continue;
        const connz = await monitor<{ connections?: { name?: string }[] }>(node, '/connz?limit=1024');
        byNode.set(node.name, (connz.connections ?? []).map((c) => c.name ?? '').sort());
      }
      return byNode;
    },
    subscriptions: async () => {
      const byNode = new Map<string, string[]>();
      for (const { node } of nodes) {
        if (!node.running) continue;
        const connz = await monitor<{ connections?: { subscriptions_list?: string[] }[] }>(
          node,
          '/connz?limit=1024&subs=1',
        );
        byNode.set(
          node.name,
          (connz.connections ?? []).flatMap((c) => c.subscriptions_list ?? []),
        );
      }
      return byNode;
    },
    dispose: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      for (const row of links) for (const link of row) await link?.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    // All at once: JetStream in a cluster answers only once a majority of the nodes elected a leader.
    await Promise.all(nodes.map((n) => n.launch()));
    await Promise.all(nodes.map((n) => waitForRoutes(n.node, size - 1)));
    await Promise.all(
      nodes.map((n) => waitForJetStream(n.node.url, Date.now() + 30_000, keys.options('ingestion'))),
    );
    await Promise.all(nodes.map((n) => waitForMetaGroup(n.node, size)));
  } catch (error) {
    await handle.dispose();
    throw error;
  }
  return handle;
}

interface NodeSetup {
  index: number;
  size: number;
  root: string;
  binary: string;
  keys: Omit<SecuredBus, 'connect' | 'connectWith'>;
  links: CuttableLink[][];
  clusterPorts: (number | undefined)[];
}

function clusterNode(setup: NodeSetup) {
  const { index, size, links, clusterPorts } = setup;
  const dir = join(setup.root, `n${index}`);
  const storeDir = join(dir, 'js');
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess | undefined;
  let port = -1;
  let monitorPort = -1;
  let logText = '';

  const launch = async () => {
    const portsDir = mkdtempSync(join(dir, 'ports-'));
    const configFile = join(dir, 'nats-server.conf');
    const routes = [];
    for (let other = 0; other < size; other++)
      if (other !== index) routes.push(`nats-route://127.0.0.1:${links[index][other].port}`);
    writeFileSync(
      configFile,
      renderNatsServerConfig(setup.keys.authority, {
        host: '127.0.0.1',
        port,
        storeDir,
        resolverDir: join(dir, 'jwt'),
        portsFileDir: portsDir,
        tls: true,
        monitor: '127.0.0.1:-1',
        cluster: {
          name: TEST_CLUSTER_NAME,
          serverName: `n${index}`,
          listen: '127.0.0.1:-1',
          routes,
          // Port 1 refuses at once: what a node hears about another leads nowhere, only the links carry routes.
          advertise: '127.0.0.1:1',
        },
      }),
    );
    const proc = spawn(setup.binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (logText += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (logText += d.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`nats-server n${index} exited:\n${logText}`);
      const file = readdirSync(portsDir).find((f) => f.endsWith('.ports'));
      const ports = file ? readPortsFile(join(portsDir, file)) : undefined;
      if (ports?.cluster && ports.monitor) {
        port = ports.client;
        monitorPort = ports.monitor;
        clusterPorts[index] = ports.cluster;
        return;
      }
      if (Date.now() > deadline)
        throw new Error(`nats-server n${index} did not report its ports:\n${logText}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const signal = async (name: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    clusterPorts[index] = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(name);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  const node: NatsClusterNode = {
    name: `n${index}`,
    index,
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get monitorUrl() {
      return `http://127.0.0.1:${monitorPort}`;
    },
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined;
    },
    storeDir,
    kill: () => signal('SIGKILL'),
    restart: async () => {
      await signal('SIGTERM');
      await launch();
      await waitForRoutes(node, size - 1);
      await waitForJetStream(node.url, Date.now() + 30_000, setup.keys.options('ingestion'));
    },
    log: () => logText,
  };
  return { node, launch, stop: () => signal('SIGTERM') };
}

async function monitor<T>(node: NatsClusterNode, path: string): Promise<T> {
  const response = await fetch(`${node.monitorUrl}${path}`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${node.name}${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function routeCount(node: NatsClusterNode): Promise<number> {
  if (!node.running) return 0;
  const routez = await monitor<{ num_routes: number; routes?: { remote_id: string }[] }>(node, '/routez');
  // Two routes to the same node (both sides dialled) are one link: count distinct remotes.
  return new Set((routez.routes ?? []).map((r) => r.remote_id)).size;
}

async function waitForRoutes(node: NatsClusterNode, expected: number): Promise<void> {
  await waitFor(
    `${node.name} routed to ${expected} other nodes`,
    async () => (await routeCount(node)) === expected,
    20_000,
    100,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- ${node.name} log ---\n${node.log().slice(-4000)}`);
  });
}

/**
 * Until the node knows JetStream's meta leader in a group of `size`. (Services still retry "no suitable
 * peers" while the other nodes' JetStream is being registered: see whileJetStreamSettles.)
 */
async function waitForMetaGroup(node: NatsClusterNode, size: number): Promise<void> {
  await waitFor(
    `${node.name} in a JetStream meta group of ${size}`,
    async () => {
      const jsz = await monitor<{ meta_cluster?: { leader?: string; cluster_size?: number } }>(node, '/jsz');
      return Boolean(jsz.meta_cluster?.leader) && jsz.meta_cluster?.cluster_size === size;
    },
    30_000,
    100,
  );
}
